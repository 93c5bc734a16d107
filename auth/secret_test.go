package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testPassword = "hunter2-s3cr3t"

// leaks reports whether out shows testPassword in any common encoding.
func leaks(out string) bool {
	for _, form := range []string{
		testPassword,
		hex.EncodeToString([]byte(testPassword)),
		strings.ToUpper(hex.EncodeToString([]byte(testPassword))),
		base64.StdEncoding.EncodeToString([]byte(testPassword)),
		fmt.Sprintf("% x", testPassword),
		fmt.Sprint([]byte(testPassword)),
	} {
		if strings.Contains(out, form) {
			return true
		}
	}
	return false
}

func testCredentials() Credentials {
	return Credentials{Username: "alice", Password: NewSecret(testPassword), AuthzID: "admin@example.com"}
}

// config is what a caller might keep: the credentials in exported and in
// unexported fields, by value and by pointer.
type config struct {
	Server   string
	Creds    Credentials
	Password Secret
	Ptr      *Secret
	creds    Credentials
	password Secret
	ptr      *Credentials
}

func testConfig() config {
	c := testCredentials()
	s := NewSecret(testPassword)
	return config{Server: "example.com", Creds: c, Password: s, Ptr: &s, creds: c, password: s, ptr: &c}
}

func TestSecretNeverPrinted(t *testing.T) {
	c := testCredentials()
	s := c.Password
	cfg := testConfig()
	values := []struct {
		name string
		v    any
	}{
		{"Secret", s},
		{"*Secret", &s},
		{"Credentials", c},
		{"*Credentials", &c},
		{"struct holding them", cfg},
		{"*struct holding them", &cfg},
		{"slice of Secret", []Secret{s, s}},
		{"map of Credentials", map[string]Credentials{"a": c}},
		{"anonymous struct", struct{ S Secret }{s}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%T", "%p"}
	for _, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v.v)
			if leaks(out) {
				t.Errorf("%s with %s: %s", v.name, verb, out)
			}
		}
		for _, out := range []string{fmt.Sprint(v.v), fmt.Sprintln(v.v)} {
			if leaks(out) {
				t.Errorf("%s with Sprint: %s", v.name, out)
			}
		}
	}
}

func TestSecretForms(t *testing.T) {
	s := NewSecret(testPassword)
	var zero Secret
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"String", s.String(), "REDACTED"},
		{"GoString", s.GoString(), "REDACTED"},
		{"%v", fmt.Sprintf("%v", s), "REDACTED"},
		{"%#v", fmt.Sprintf("%#v", s), "REDACTED"},
		{"%q", fmt.Sprintf("%q", s), `"REDACTED"`},
		{"%x", fmt.Sprintf("%x", s), "REDACTED"},
		{"LogValue", s.LogValue().String(), "REDACTED"},
		{"zero String", zero.String(), ""},
		{"zero GoString", zero.GoString(), `""`},
		{"zero %v", fmt.Sprintf("%v", zero), ""},
		{"zero %q", fmt.Sprintf("%q", zero), `""`},
		{"empty NewSecret", NewSecret("").String(), ""},
		{"Credentials String", testCredentials().String(), `auth.Credentials{Username:"alice", Password:REDACTED, AuthzID:"admin@example.com"}`},
		{"Credentials %v", fmt.Sprintf("%v", Credentials{Username: "alice", Password: s}), `auth.Credentials{Username:"alice", Password:REDACTED}`},
		{"Credentials %#v", fmt.Sprintf("%#v", Credentials{Username: "alice", Password: s}), `auth.Credentials{Username:"alice", Password:REDACTED}`},
		{"Credentials %+v", fmt.Sprintf("%+v", Credentials{Username: "alice", Password: s}), `auth.Credentials{Username:"alice", Password:REDACTED}`},
		{"anonymous Credentials", Credentials{}.String(), "auth.Credentials{}"},
		{"struct with exported Secret %+v", fmt.Sprintf("%+v", struct{ P Secret }{s}), "{P:REDACTED}"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestSecretValue(t *testing.T) {
	s := NewSecret(testPassword)
	if got := s.Reveal(); got != testPassword {
		t.Errorf("Reveal = %q, want the password", got)
	}
	if s.IsZero() {
		t.Error("IsZero of a set Secret = true")
	}
	var zero Secret
	if !zero.IsZero() || !NewSecret("").IsZero() || zero.Reveal() != "" {
		t.Error("the zero Secret is not empty")
	}
	if !s.Equal(NewSecret(testPassword)) || s.Equal(NewSecret("other")) || s.Equal(zero) || !zero.Equal(NewSecret("")) {
		t.Error("Equal compares wrongly")
	}
	// go-cmp uses Equal, so Credentials can be compared with it.
	if d := cmp.Diff(testCredentials(), testCredentials()); d != "" {
		t.Errorf("equal Credentials differ: %s", d)
	}
	if cmp.Equal(testCredentials(), Credentials{Username: "alice", Password: NewSecret("x"), AuthzID: "admin@example.com"}) {
		t.Error("Credentials with another password compare equal")
	}
}

func TestSecretNotInSlog(t *testing.T) {
	cfg := testConfig()
	handlers := []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	}
	for _, h := range handlers {
		var buf bytes.Buffer
		log := slog.New(h.new(&buf))
		log.Info("connect",
			"secret", cfg.Password,
			"secret_ptr", cfg.Ptr,
			"creds", cfg.Creds,
			"creds_ptr", cfg.ptr,
			slog.Any("config", cfg),
			slog.Group("g", "p", cfg.Password),
		)
		log.With("creds", cfg.Creds).WithGroup("x").Info("again", "cfg", &cfg)
		out := buf.String()
		if leaks(out) {
			t.Errorf("%s handler leaks: %s", h.name, out)
		}
		if !strings.Contains(out, "REDACTED") || !strings.Contains(out, "alice") {
			t.Errorf("%s handler output lacks REDACTED or the username: %s", h.name, out)
		}
	}
}

func TestSecretNotInJSONOrText(t *testing.T) {
	cfg := testConfig()
	for _, v := range []any{cfg.Password, cfg.Ptr, cfg.Creds, cfg, &cfg} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		if leaks(string(b)) {
			t.Errorf("json.Marshal(%T) leaks: %s", v, b)
		}
	}
	b, _ := json.Marshal(testCredentials())
	if want := `{"Username":"alice","Password":"REDACTED","AuthzID":"admin@example.com"}`; string(b) != want {
		t.Errorf("json.Marshal(Credentials) = %s, want %s", b, want)
	}
	text, err := cfg.Password.MarshalText()
	if err != nil || string(text) != "REDACTED" {
		t.Errorf("MarshalText = %q, %v", text, err)
	}
}

// TestSecretNotInErrors collects errors from every part of the package that
// sees credentials and checks that none shows the password.
func TestSecretNotInErrors(t *testing.T) {
	c := testCredentials()
	var errs []error
	add := func(err error) {
		if err == nil {
			t.Fatal("expected an error")
		}
		errs = append(errs, err)
	}
	_, err := Choose([]string{"PLAIN", "X-OAUTH2"}, c, Policy{})
	add(err)
	_, err = Choose(nil, Credentials{Password: NewSecret(testPassword)}, Policy{})
	add(err)
	_, err = Choose([]string{"PLAIN"}, Credentials{Username: "alice", Password: NewSecret(testPassword + "\x00")}, Policy{})
	add(err)
	_, err = Choose([]string{"PLAIN"}, Credentials{Username: "alice", Password: NewSecret("\xff" + testPassword)}, Policy{})
	add(err)
	_, err = NewExchange([]string{"SCRAM-SHA-1"}, Credentials{Username: "@example.com", Password: NewSecret(testPassword)}, Policy{})
	add(err)

	// SCRAM with the wrong server signature, a bad challenge, and misuse.
	for _, stage := range []string{"signature", "challenge", "missing", "misuse"} {
		ex, err := NewExchange([]string{"SCRAM-SHA-256"}, c, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		first, err := ex.Start()
		if err != nil {
			t.Fatal(err)
		}
		nonce := clientNonce(t, first)
		switch stage {
		case "challenge":
			_, err = ex.Step([]byte("r=" + nonce + "x,s=" + base64.StdEncoding.EncodeToString([]byte(testPassword)) + ",i=99999999"))
			add(err)
			continue
		case "misuse":
			add(ex.Finish(nil))
			continue
		}
		if _, err := ex.Step([]byte("r=" + nonce + "srv,s=c2FsdA==,i=4096")); err != nil {
			t.Fatal(err)
		}
		if stage == "missing" {
			add(ex.Finish(nil))
		} else {
			add(ex.Finish([]byte("v=" + base64.StdEncoding.EncodeToString([]byte("not the signature")))))
		}
	}
	for _, err := range errs {
		if leaks(err.Error()) || leaks(fmt.Sprintf("%+v %#v", err, err)) {
			t.Errorf("error shows the password: %v", err)
		}
	}
	var ne *NoMechanismError
	if !errors.As(errs[0], &ne) {
		t.Fatalf("first error is %T, want *NoMechanismError", errs[0])
	}
}

func TestSecretRedactIn(t *testing.T) {
	for _, tc := range []struct {
		name, secret, text, want string
	}{
		{"echoed", "hunter2", "bad password hunter2 for bob", "bad password REDACTED for bob"},
		{"twice", "pw", "pw:pw", "REDACTED:REDACTED"},
		{"url-escaped", "a b&c", "token=a+b%26c, raw a b&c", "token=REDACTED, raw REDACTED"},
		{"path-escaped", "a b", "/x/a%20b/", "/x/REDACTED/"},
		{"absent", "s3cret", "nothing here", "nothing here"},
		{"empty secret", "", "anything", "anything"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewSecret(tc.secret).RedactIn(tc.text); got != tc.want {
				t.Errorf("RedactIn(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
