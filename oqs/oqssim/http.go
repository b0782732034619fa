package oqssim

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Handler is the terminal's HTTP trigger, for tests that drive it from
// outside: POST /face?scenario=NAME writes a face-folder result and answers
// {"file": PATH}; GET /scenarios lists the scenario names.
func (t *Terminal) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /face", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("scenario")
		if name == "" {
			http.Error(w, "scenario is required", http.StatusBadRequest)
			return
		}
		path, err := t.EmitFace(r.Context(), name)
		if errors.Is(err, ErrNoScenario) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"file": path})
	})
	mux.HandleFunc("GET /scenarios", func(w http.ResponseWriter, r *http.Request) {
		var names []map[string]string
		for _, s := range t.cfg.Scenarios.List {
			names = append(names, map[string]string{"name": s.Name, "kind": s.Kind})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(names)
	})
	return mux
}
