package main

import (
	"context"
	"errors"
	"time"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

func parseDuration(s string) (time.Duration, error) {
	if s == "0" || s == "" {
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return -1, nil
	}
	return d, nil
}

// resolvePlugin loads PLUGIN (see runtime.Host.Resolve): a .wasm path, a
// plugin directory, or the name of a plugin under roots, of the wanted kind
// ("" = any). Only that plugin is loaded.
func resolvePlugin(ctx context.Context, h *runtime.Host, ref string, roots []string, kind runtime.PluginKind) (*runtime.Plugin, error) {
	e, err := h.Resolve(ctx, ref, roots, kind)
	if err != nil {
		return nil, err
	}
	return e.Plugin, nil
}

// configFrom turns repeated id=value flags into settings for p, in schema
// order, with defaults for the rest. It is the server's validation
// (schema.Check, through ValuesFromText and Complete), and every problem is a
// usage error naming the plugin and the field, worded as the server's
// -32602 message.
func configFrom(p *runtime.Plugin, flags []string) ([]schema.Setting, error) {
	given, err := schema.ValuesFromText(p.ConfigSchemas, flags)
	if err != nil {
		return nil, configError(p, err)
	}
	settings, err := schema.Complete(p.ConfigSchemas, given)
	if err != nil {
		return nil, configError(p, err)
	}
	return settings, nil
}

func configError(p *runtime.Plugin, err error) error {
	return usageError{schema.ForPlugin(p.Name, err)}
}

// initError makes a plugin's own rejection of its configuration
// (init-error.config) a usage error, as the server makes it -32602.
func initError(err error) error {
	var re *runtime.Error
	if errors.As(err, &re) && re.Kind == runtime.KindPluginError && re.Code == "config" {
		return usageError{err}
	}
	return err
}
