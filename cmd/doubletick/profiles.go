package main

// Profiles: named organisations a support engineer switches between, each
// with its base URL and where its API key comes from (a variable or a
// file: never the key itself), kept in a config file of the user's.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/doubletick-go/doubletick/webhooks"
)

// The environment variables of profiles.
const (
	envProfile = "DOUBLETICK_PROFILE"
	envConfig  = "DOUBLETICK_CONFIG"
)

// profile is one organisation's settings. It holds where the key comes
// from, never the key.
type profile struct {
	// BaseURL is the API's address; "" for DoubleTick's (or
	// $DOUBLETICK_BASE_URL).
	BaseURL string `json:"base_url,omitempty"`
	// KeyEnv names the variable that holds the key, or KeyFile the file.
	KeyEnv  string `json:"key_env,omitempty"`
	KeyFile string `json:"key_file,omitempty"`
	// Org is the organisation's ID in an inbox that serves many, for the
	// inbox commands (their --org).
	Org string `json:"org,omitempty"`
}

// profileFile is the config file.
type profileFile struct {
	Profiles map[string]profile `json:"profiles"`
}

// configPath is the profiles' file: $DOUBLETICK_CONFIG, or config.json in
// the user's configuration directory.
func (a *app) configPath() (string, error) {
	if p := a.getenv(envConfig); p != "" {
		return p, nil
	}
	dir := a.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home := a.getenv("HOME"); home != "" {
			dir = filepath.Join(home, ".config")
		} else {
			var err error
			if dir, err = os.UserConfigDir(); err != nil {
				return "", usagef("no configuration directory: set %s to the profiles' file", envConfig)
			}
		}
	}
	return filepath.Join(dir, "doubletick", "config.json"), nil
}

// loadProfiles reads the profiles' file; a file that does not exist holds
// no profile.
func (a *app) loadProfiles() (profileFile, string, error) {
	path, err := a.configPath()
	if err != nil {
		return profileFile{}, "", err
	}
	f := profileFile{Profiles: map[string]profile{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, path, nil
	case err != nil:
		return f, path, usagef("reading the profiles: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, path, usagef("the profiles' file %s is not valid JSON: %v", path, err)
	}
	if f.Profiles == nil {
		f.Profiles = map[string]profile{}
	}
	return f, path, nil
}

// saveProfiles writes the profiles' file, readable by its owner only (it
// names where keys are), replacing it whole so that a crash leaves the old
// one or the new one.
func saveProfiles(path string, f profileFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json") // created 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// activeProfile returns the profile --profile or $DOUBLETICK_PROFILE
// names, with its name; nil when none is named.
func (a *app) activeProfile() (string, *profile, error) {
	if a.profileLoaded {
		return a.profileName, a.profile, a.profileErr
	}
	a.profileLoaded = true
	name := cmp.Or(a.profileFlag, a.getenv(envProfile))
	if name == "" {
		return "", nil, nil
	}
	a.profileName = name
	f, path, err := a.loadProfiles()
	if err != nil {
		a.profileErr = err
		return name, nil, err
	}
	p, ok := f.Profiles[name]
	if !ok {
		names := slices.Sorted(maps.Keys(f.Profiles))
		known := "none yet: add one with \"doubletick profiles add\""
		if len(names) > 0 {
			known = strings.Join(names, ", ")
		}
		a.profileErr = usagef("no profile %q in %s (profiles: %s)", name, path, known)
		return name, nil, a.profileErr
	}
	a.profile = &p
	return name, &p, nil
}

// profileKey reads the API key from where profile name says it is.
func (a *app) profileKey(name string, p *profile) (string, error) {
	if p.KeyEnv != "" {
		if v := a.getenv(p.KeyEnv); v != "" {
			return v, nil
		}
		return "", usagef("profile %s takes its API key from $%s, which is not set", name, p.KeyEnv)
	}
	b, err := os.ReadFile(p.KeyFile)
	if err != nil {
		return "", usagef("profile %s takes its API key from a file: %w", name, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", usagef("profile %s: its key file %s is empty", name, p.KeyFile)
	}
	return v, nil
}

// checkOrgID refuses an ID that cannot name an organisation, given by
// flag ("--org"), or a profile, named the same way (flag "").
func checkOrgID(flag, id string) error {
	switch {
	case webhooks.ValidOrgID(id):
		return nil
	case flag == "":
		return usagef("%q cannot name a profile: %s", id, orgIDRule)
	}
	return usagef("%s %q cannot name an organisation: %s", flag, id, orgIDRule)
}

// orgIDRule is what an organisation's ID (or a profile's name) may be.
const orgIDRule = "use 1 to 64 letters, digits, '.', '_' or '-'"

func (a *app) profilesCommand() *cobra.Command {
	c := group("profiles", "Name the organisations you work with, and switch between them with --profile",
		readsEnv(a.profilesListCommand(), envConfig, envProfile), readsEnv(a.profilesAddCommand(), envConfig),
		readsEnv(a.profilesRemoveCommand(), envConfig))
	c.Long = `A profile names one DoubleTick organisation: the API's address and where
its API key comes from, a variable or a file (never the key itself). Choose
one with --profile NAME or $` + envProfile + `: the commands then read the
key from there only, never from $` + envAPIKey + `, so that a key left in
the shell for another customer is never used by mistake. Profiles live in
$` + envConfig + ` (default ~/.config/doubletick/config.json), created
readable by you alone.`
	return c
}

func (a *app) profilesListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the profiles; * marks the one in use",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, _, err := a.loadProfiles()
			if err != nil {
				return err
			}
			current := cmp.Or(a.profileFlag, a.getenv(envProfile))
			type row struct {
				Name    string `json:"name"`
				Current bool   `json:"current"`
				profile
			}
			rows := make([]row, 0, len(f.Profiles))
			for _, name := range slices.Sorted(maps.Keys(f.Profiles)) {
				rows = append(rows, row{name, name == current, f.Profiles[name]})
			}
			return a.print(rows, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "\tNAME\tBASE URL\tKEY FROM\tINBOX ORG")
				for _, r := range rows {
					mark, from := " ", "$"+r.KeyEnv
					if r.Current {
						mark = "*"
					}
					if r.KeyFile != "" {
						from = r.KeyFile
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, r.Name, cmp.Or(r.BaseURL, "(default)"), from, cmp.Or(r.Org, "-"))
				}
				tw.Flush()
			})
		},
	}
}

func (a *app) profilesAddCommand() *cobra.Command {
	var p profile
	c := &cobra.Command{
		Use:   "add NAME (--from-env VAR | --from-file FILE) [--base-url URL] [--org ID]",
		Short: "Add a profile: where its API key comes from, and its base URL",
		Args:  args(1, "the profile's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkOrgID("", name); err != nil {
				return err
			}
			if (p.KeyEnv == "") == (p.KeyFile == "") {
				return usagef("give one of --from-env VAR and --from-file FILE: where the API key is (the key itself is never stored)")
			}
			if err := checkOrgID("--org", p.Org); p.Org != "" && err != nil {
				return err
			}
			if a.baseURL != "" {
				if err := checkBaseURL(a.baseURL); err != nil {
					return err
				}
				p.BaseURL = a.baseURL
			}
			if p.KeyFile != "" {
				abs, err := filepath.Abs(p.KeyFile)
				if err != nil {
					return usagef("--from-file: %w", err)
				}
				p.KeyFile = abs
			}
			f, path, err := a.loadProfiles()
			if err != nil {
				return err
			}
			if _, exists := f.Profiles[name]; exists {
				return usagef("profile %q exists: remove it first (doubletick profiles remove %s)", name, name)
			}
			f.Profiles[name] = p
			if err := saveProfiles(path, f); err != nil {
				return fmt.Errorf("writing the profiles: %w", err)
			}
			fmt.Fprintf(a.stderr, "profile %s added to %s\n", name, path)
			return nil
		},
	}
	c.Flags().StringVar(&p.KeyEnv, "from-env", "", "the environment variable that holds the organisation's API key")
	c.Flags().StringVar(&p.KeyFile, "from-file", "", "the file that holds the organisation's API key")
	c.Flags().StringVar(&p.Org, "org", "", "the organisation's ID in an inbox that serves many (the inbox commands' --org)")
	return c
}

func (a *app) profilesRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a profile",
		Args:  args(1, "the profile's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, path, err := a.loadProfiles()
			if err != nil {
				return err
			}
			if _, ok := f.Profiles[args[0]]; !ok {
				return usagef("no profile %q in %s", args[0], path)
			}
			delete(f.Profiles, args[0])
			if err := saveProfiles(path, f); err != nil {
				return fmt.Errorf("writing the profiles: %w", err)
			}
			fmt.Fprintf(a.stderr, "profile %s removed\n", args[0])
			return nil
		},
	}
}
