package xmlframe

import "encoding/xml"

// smallSet is the number of items (attributes of one element, prefix
// declarations in scope) up to which the checks compare them pairwise, which
// allocates nothing; above it they use a map, so that every check stays
// linear in the size of the input whatever a server puts in one element.
const smallSet = 8

// scope is one prefix declaration, made on the element at depth.
type scope struct {
	prefix string
	depth  int
}

// prefixScopes holds the prefixes declared on the open elements.
type prefixScopes struct {
	stack []scope        // innermost last
	count map[string]int // declarations in stack per prefix; nil while the stack is small
}

// push records a declaration of prefix on the element at depth.
func (p *prefixScopes) push(prefix string, depth int) {
	p.stack = append(p.stack, scope{prefix: prefix, depth: depth})
	switch {
	case p.count != nil:
		p.count[prefix]++
	case len(p.stack) > smallSet:
		p.count = make(map[string]int, 2*len(p.stack))
		for _, s := range p.stack {
			p.count[s.prefix]++
		}
	}
}

// leave drops the declarations of the elements deeper than depth.
func (p *prefixScopes) leave(depth int) {
	for len(p.stack) > 0 && p.stack[len(p.stack)-1].depth > depth {
		if p.count != nil {
			prefix := p.stack[len(p.stack)-1].prefix
			if p.count[prefix]--; p.count[prefix] == 0 {
				delete(p.count, prefix)
			}
		}
		p.stack = p.stack[:len(p.stack)-1]
	}
}

// declared reports whether prefix may be used: no prefix, the reserved xml
// prefix, xmlns on attributes, or a prefix declared in scope.
func (p *prefixScopes) declared(prefix string, element bool) bool {
	switch prefix {
	case "", "xml":
		return true
	case "xmlns":
		return !element
	}
	if p.count != nil {
		return p.count[prefix] > 0
	}
	for _, s := range p.stack {
		if s.prefix == prefix {
			return true
		}
	}
	return false
}

// duplicateAttr returns a raw name that two of attrs share, if any.
func duplicateAttr(attrs []xml.Attr) (xml.Name, bool) {
	if len(attrs) <= smallSet {
		for i, a := range attrs {
			for _, b := range attrs[:i] {
				if a.Name == b.Name {
					return a.Name, true
				}
			}
		}
		return xml.Name{}, false
	}
	seen := make(map[xml.Name]struct{}, len(attrs))
	for _, a := range attrs {
		if _, ok := seen[a.Name]; ok {
			return a.Name, true
		}
		seen[a.Name] = struct{}{}
	}
	return xml.Name{}, false
}
