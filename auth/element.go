package auth

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds the nesting this package accepts in a parsed element.
const maxDepth = 32

// rootElement returns the start of the single top-level element, skipping a
// leading XML declaration, comments and whitespace.
func rootElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return xml.StartElement{}, errors.New("no element")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, errors.New("text before the element")
			}
		case xml.Directive:
			return xml.StartElement{}, errors.New("unexpected directive")
		}
	}
}

// walkChildren reads the rest of the root element whose start was just read.
// It calls child for each direct child element (numbered from 0) and text for
// the character data directly inside the child numbered i. It checks that
// nothing but whitespace and comments follows the root element.
func walkChildren(d *xml.Decoder, child func(i int, start xml.StartElement), text func(i int, data []byte)) error {
	depth := 1
	i := -1
	for depth > 0 {
		tok, err := d.Token()
		if err == io.EOF {
			return errors.New("unexpected end of element")
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return fmt.Errorf("nesting deeper than %d", maxDepth)
			}
			if depth == 2 {
				i++
				if child != nil {
					child(i, t)
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 2 && text != nil {
				text(i, t)
			}
		case xml.Directive:
			return errors.New("unexpected directive")
		}
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errors.New("text after the element")
			}
		case xml.Comment:
		default:
			return errors.New("data after the element")
		}
	}
}

// attr returns the value of the attribute space:local of s, or "".
func attr(s xml.StartElement, space, local string) string {
	for _, a := range s.Attr {
		if a.Name.Space == space && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
