package doubleticktest

import (
	"log/slog"
	"net/http"
	"time"
)

// WithRequestLog makes the fake log each request it answers, control API
// included, to logger at Info: its method, path, status and the time it
// took. Never a header, a query or a body: the API key travels in a
// header, phones and group IDs in queries and bodies.
func WithRequestLog(logger *slog.Logger) Option {
	return func(s *Server) {
		if logger == nil {
			s.refuse("WithRequestLog: nil logger")
			return
		}
		s.requestLog = logger
	}
}

// logRequests logs each request next answers.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
	})
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
