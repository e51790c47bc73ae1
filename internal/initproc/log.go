package initproc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/unha/unha/internal/initmsg"
)

// connHandler sends init's log records to the runtime, which writes them
// to its own --log: init's stderr is the container's.
type connHandler struct {
	conn  *initmsg.Conn
	level slog.Level
	attrs []slog.Attr
}

func (h *connHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *connHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true }
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	return h.conn.Send(&initmsg.Msg{Type: initmsg.TypeLog, Level: strings.ToLower(r.Level.String()), Text: b.String()}, -1)
}

func (h *connHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &connHandler{conn: h.conn, level: h.level, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *connHandler) WithGroup(string) slog.Handler { return h }

func parseLevel(s string) slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return slog.LevelWarn
	}
	return l
}
