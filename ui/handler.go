package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/batchrun/batchrun/jobs"
)

// static is the page: index.html loads app.js and style.css from
// /static/. Nothing is fetched from elsewhere, so the UI works offline.
//
//go:embed static
var static embed.FS

// RunView is the JSON of /api/runs/{id}: the run as `batchrun runs`
// lists it, its report (null when its process died before it ended) and
// its event log.
type RunView struct {
	Info   jobs.RunInfo `json:"info"`
	Report *jobs.Report `json:"report"`
	Events []jobs.Event `json:"events"`
}

// Handler serves the UI over stateDir: the page at / and /runs/{id}, its
// assets under /static/, and the JSON API under /api/.
func Handler(stateDir string) http.Handler {
	assets, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, assets, "index.html")
	}
	// The page routes on its own URL: the runs list at /, a run at
	// /runs/{id}, so that a run's address can be shared and reloaded.
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /runs/{id}", page)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /api/runs", func(w http.ResponseWriter, r *http.Request) {
		runs, err := jobs.ListRuns(stateDir)
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Errorf("list runs: %w", err))
			return
		}
		if runs == nil {
			runs = []jobs.RunInfo{} // [] rather than null
		}
		writeJSON(w, http.StatusOK, runs)
	})
	mux.HandleFunc("GET /api/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		view, err := runView(stateDir, r.PathValue("id"))
		var nf *jobs.RunNotFoundError
		switch {
		case errors.As(err, &nf):
			writeError(w, http.StatusNotFound, err)
		case err != nil:
			writeError(w, http.StatusInternalServerError, fmt.Errorf("run %s: %w", r.PathValue("id"), err))
		default:
			writeJSON(w, http.StatusOK, view)
		}
	})
	return mux
}

// runView reads the run whose id starts with id (it must name one).
func runView(stateDir, id string) (*RunView, error) {
	d, err := jobs.ShowRun(stateDir, id)
	if err != nil {
		return nil, err
	}
	v := &RunView{Info: d.Info, Report: d.Report, Events: d.Events}
	if v.Events == nil {
		v.Events = []jobs.Event{}
	}
	return v, nil
}

// writeJSON encodes v whole before writing, so that an encoding error is
// a 500, not a truncated 200. Runs change while they run: no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // subtask names hold "->"
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("encode: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // an error here is a client gone away: nothing to tell it
}

// apiError is the JSON body of an API error.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	body, _ := json.Marshal(apiError{Error: err.Error()}) // a struct of a string always encodes
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // nothing to do if the client went away
}
