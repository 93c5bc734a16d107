package prosody

import "embed"

// ConfigTemplate is prosody.cfg.lua.tmpl, a Go text/template that renders a
// complete Prosody 0.12 or 13 configuration (see internal/servertest for its data).
//
//go:embed prosody.cfg.lua.tmpl
var ConfigTemplate string

// Modules holds the test-only Prosody modules under "modules/", one
// mod_NAME.lua file (or mod_NAME/ directory) each, ready for plugin_paths.
//
//go:embed modules
var Modules embed.FS
