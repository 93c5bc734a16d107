package muc

import (
	"encoding/xml"
	"strconv"
	"time"

	"mellium.im/xmlstream"
)

// historyElement returns the <history/> of the join presence for h, or nil
// for the room's default.
func historyElement(h History) xml.TokenReader {
	var attr []xml.Attr
	add := func(name, value string) { attr = append(attr, xml.Attr{Name: xml.Name{Local: name}, Value: value}) }
	switch {
	case h.None:
		add("maxstanzas", "0")
	default:
		if h.MaxStanzas > 0 {
			add("maxstanzas", strconv.Itoa(h.MaxStanzas))
		}
		if h.MaxChars > 0 {
			add("maxchars", strconv.Itoa(h.MaxChars))
		}
		if !h.Since.IsZero() {
			add("since", h.Since.UTC().Format(time.RFC3339))
		}
	}
	if attr == nil {
		return nil
	}
	return xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Local: "history"}, Attr: attr})
}
