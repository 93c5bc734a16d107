package servertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLuaString(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain path", "/tmp/x y/prosody.log", `"/tmp/x y/prosody.log"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"control characters", "a\nb\x00", `"a\010b\000"`},
		{"empty", "", `""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := luaString(tc.in); got != tc.want {
				t.Errorf("luaString(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestRenderProsodyConfig(t *testing.T) {
	o, err := (&Options{Prosody: ProsodyOptions{
		Modules:       []string{"muc_mam", `evil"name`},
		ExtraGlobal:   "-- extra global",
		ExtraHost:     "-- extra host",
		ExtraMUC:      "-- extra muc",
		ExtraSections: `Component "lobby.localhost" "muc"`,
	}}).withDefaults(Prosody13)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "prosody.cfg.lua")
	err = renderProsodyConfig(path, prosodyConfig{
		PIDFile: "/d/prosody.pid", DataDir: "/d/data", ModulesDir: "/d/modules", InstallerDir: "/d/custom_plugins",
		CertsDir: "/d/certs", LogFile: "/d/server.log", LogLevel: "info",
		CertFile: "/d/certs/localhost.crt", KeyFile: "/d/certs/localhost.key",
		C2SPort: 1111, HTTPPort: 2222, HTTPSPort: 3333,
		ResumeTimeout: o.ResumeTimeout, BOSHMaxInactivity: o.BOSHMaxInactivity,
		Modules: o.Prosody.Modules, ModulesDisabled: (&prosody{kind: Prosody13}).modulesDisabled(),
		ExtraGlobal: o.Prosody.ExtraGlobal, ExtraHost: o.Prosody.ExtraHost,
		ExtraMUC: o.Prosody.ExtraMUC, ExtraSections: o.Prosody.ExtraSections,
		Instance: "abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(data)
	for _, want := range []string{
		"run_as_root = true",
		`pidfile = "/d/prosody.pid"`,
		`plugin_paths = { "/d/modules" }`,
		`installer_plugin_path = "/d/custom_plugins"`,
		`interfaces = { "127.0.0.1" }`,
		"c2s_ports = { 1111 }",
		"http_ports = { 2222 }",
		"https_ports = { 3333 }",
		"s2s_ports = { }",
		`certificate = "/d/certs/localhost.crt"`,
		"smacks_hibernation_time = 60",
		"bosh_max_inactivity = 60",
		`authentication = "internal_plain"`,
		`"xmppconn_test";`,
		`"muc_mam";`,
		`"evil\"name";`,
		"modules_disabled = {\n\t\"s2s\";\n\t\"http_altconnect\";\n}",
		"-- extra global\n",
		"VirtualHost \"localhost\"\n-- extra host\n",
		"VirtualHost \"anon.localhost\"\n\tauthentication = \"anonymous\"",
		"Component \"conference.localhost\" \"muc\"\n-- extra muc\n",
		"\nComponent \"lobby.localhost\" \"muc\"\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestProsodyModulesDisabled(t *testing.T) {
	// Prosody 13 loads mod_http_altconnect by itself; it serves
	// /.well-known/ as the test host-meta module does.
	for _, tc := range []struct {
		kind Kind
		want string
	}{{Prosody12, "[s2s]"}, {Prosody13, "[s2s http_altconnect]"}} {
		if got := strings.Join((&prosody{kind: tc.kind}).modulesDisabled(), " "); "["+got+"]" != tc.want {
			t.Errorf("%s: modules_disabled %s, want %s", tc.kind, "["+got+"]", tc.want)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name             string
		in               *Options
		kind             Kind
		resume, inactive int
		grace            string
		wantErr          bool
	}{
		{"nil", nil, Prosody12, 60, 60, "5s", false},
		{"zero", &Options{}, Ejabberd, 60, 60, "15s", false},
		{"set", &Options{ResumeTimeout: 5, BOSHMaxInactivity: 10}, Prosody13, 5, 10, "5s", false},
		{"Prosody part on ejabberd", &Options{Prosody: ProsodyOptions{Modules: []string{"sasl2"}}}, Ejabberd, 0, 0, "", true},
		{"ejabberd part on Prosody", &Options{Ejabberd: EjabberdOptions{ExtraConfig: "x: 1"}}, Prosody12, 0, 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.in.withDefaults(tc.kind)
			if tc.wantErr {
				if err == nil {
					t.Fatal("withDefaults accepted options for another kind")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.ResumeTimeout != tc.resume || o.BOSHMaxInactivity != tc.inactive || o.StopGrace.String() != tc.grace {
				t.Errorf("withDefaults = %d, %d, %v; want %d, %d, %s", o.ResumeTimeout, o.BOSHMaxInactivity, o.StopGrace, tc.resume, tc.inactive, tc.grace)
			}
		})
	}
}

func TestWriteProsodyModules(t *testing.T) {
	dir := t.TempDir()
	if err := writeProsodyModules(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mod_xmppconn_test.lua")); err != nil {
		t.Fatal(err)
	}
}
