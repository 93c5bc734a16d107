package prosodytest

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

func TestRenderConfig(t *testing.T) {
	o := (&Options{
		Modules:       []string{"muc_mam", `evil"name`},
		ExtraGlobal:   "-- extra global",
		ExtraHost:     "-- extra host",
		ExtraMUC:      "-- extra muc",
		ExtraSections: `Component "lobby.localhost" "muc"`,
	}).withDefaults()
	path := filepath.Join(t.TempDir(), "prosody.cfg.lua")
	err := renderConfig(path, configData{
		PIDFile: "/d/prosody.pid", DataDir: "/d/data", ModulesDir: "/d/modules", InstallerDir: "/d/custom_plugins",
		CertsDir: "/d/certs", LogFile: "/d/prosody.log", LogLevel: "info",
		CertFile: "/d/certs/localhost.crt", KeyFile: "/d/certs/localhost.key",
		C2SPort: 1111, HTTPPort: 2222, HTTPSPort: 3333,
		HibernationTime: o.HibernationTime, BOSHMaxInactivity: o.BOSHMaxInactivity,
		Modules: o.Modules, ExtraGlobal: o.ExtraGlobal, ExtraHost: o.ExtraHost,
		ExtraMUC: o.ExtraMUC, ExtraSections: o.ExtraSections,
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

func TestOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		in                    *Options
		hibernation, inactive int
	}{
		{"nil", nil, 60, 60},
		{"zero", &Options{}, 60, 60},
		{"set", &Options{HibernationTime: 5, BOSHMaxInactivity: 10}, 5, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.in.withDefaults()
			if o.HibernationTime != tc.hibernation || o.BOSHMaxInactivity != tc.inactive {
				t.Errorf("withDefaults = %d, %d; want %d, %d", o.HibernationTime, o.BOSHMaxInactivity, tc.hibernation, tc.inactive)
			}
		})
	}
}

func TestWriteModules(t *testing.T) {
	dir := t.TempDir()
	if err := writeModules(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mod_xmppconn_test.lua")); err != nil {
		t.Fatal(err)
	}
}
