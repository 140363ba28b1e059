package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FileStore keeps registrations in a JSON file, replaced atomically on
// every change so a crash leaves either the old or the new list.
type FileStore struct {
	Path string
}

type storeFile struct {
	Models []Registration `json:"models"`
}

// Load reads the registrations; a missing file holds none.
func (s FileStore) Load() ([]Registration, error) {
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f storeFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %v", s.Path, err)
	}
	for i, r := range f.Models {
		if r.Name == "" || (r.Path == "" && r.Endpoint == "") {
			return nil, fmt.Errorf("%s: entry %d has no name or no path (or endpoint)", s.Path, i)
		}
	}
	return f.Models, nil
}

// Save writes the registrations to a temporary file beside Path, syncs it
// and renames it over Path.
func (s FileStore) Save(regs []Registration) error {
	if regs == nil {
		regs = []Registration{}
	}
	b, err := json.MarshalIndent(storeFile{Models: regs}, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(s.Path)
	tmp, err := os.CreateTemp(dir, filepath.Base(s.Path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), s.Path); err != nil {
		return err
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
