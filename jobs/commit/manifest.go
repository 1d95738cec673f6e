package commit

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/batchrun/batchrun/internal/osfs"
)

// ManifestName is the file batchrun leaves in every directory output, as
// Spark leaves _SUCCESS: it lists what batchrun wrote there, so that a
// later run may replace the directory and nothing else. Readers skip names
// starting with "_" or ".".
const ManifestName = "_BATCHRUN"

// Manifest is the content of ManifestName.
type Manifest struct {
	Version int      `json:"batchrun_manifest"`
	Job     string   `json:"job"`
	Run     string   `json:"run"`
	Output  string   `json:"output"`
	Files   []string `json:"files"` // sorted
}

const manifestVersion = 1

func readManifest(fsys osfs.FS, dir string) (*Manifest, error) {
	data, err := fsys.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", dir, err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("manifest %s: version %d", dir, m.Version)
	}
	return &m, nil
}

// owns reports whether the entry name of the directory is the manifest or
// a file it lists.
func (m *Manifest) owns(name string, isDir bool) bool {
	if isDir {
		return false
	}
	if name == ManifestName {
		return true
	}
	_, ok := slices.BinarySearch(m.Files, name)
	return ok
}

// writeManifest lists the files of the staged directory dir in its
// manifest and syncs the manifest.
func writeManifest(fsys osfs.FS, dir, job, run, output string) error {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	m := Manifest{Version: manifestVersion, Job: job, Run: run, Output: output, Files: []string{}}
	for _, e := range ents {
		if e.Name() != ManifestName {
			m.Files = append(m.Files, e.Name())
		}
	}
	slices.Sort(m.Files)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, ManifestName)
	if err := fsys.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return fsys.SyncFile(path)
}
