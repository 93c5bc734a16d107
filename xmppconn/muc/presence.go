package muc

import (
	"encoding/xml"
	"strconv"
)

// user is what a room presence's <x xmlns='…muc#user'/> tells.
type user struct {
	Affiliation, Role string
	Statuses          []string
}

// status reports whether the presence carries the status code.
func (u *user) status(code int) bool {
	want := strconv.Itoa(code)
	for _, s := range u.Statuses {
		if s == want {
			return true
		}
	}
	return false
}

// parseUser reads the muc#user payload of a serialized presence; a presence
// without one gives an empty user.
func parseUser(elem []byte) (*user, error) {
	var v struct {
		X *struct {
			Item *struct {
				Affiliation string `xml:"affiliation,attr"`
				Role        string `xml:"role,attr"`
			} `xml:"item"`
			Status []struct {
				Code string `xml:"code,attr"`
			} `xml:"status"`
		} `xml:"http://jabber.org/protocol/muc#user x"`
	}
	if err := xml.Unmarshal(elem, &v); err != nil {
		return nil, err
	}
	u := &user{}
	if v.X != nil {
		if v.X.Item != nil {
			u.Affiliation, u.Role = v.X.Item.Affiliation, v.X.Item.Role
		}
		for _, s := range v.X.Status {
			u.Statuses = append(u.Statuses, s.Code)
		}
	}
	return u, nil
}
