package benchkit

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as Markdown tables: figures, then ratios.
func (r *Report) WriteTable(w io.Writer) error {
	var sb strings.Builder
	m := r.Machine
	fmt.Fprintf(&sb, "machine: %s, %d CPUs (GOMAXPROCS %d), %s, %s %s/%s, load %s\n", m.CPU, m.NumCPU, m.GOMAXPROCS, m.MemTotal, m.GoVersion, m.GOOS, m.GOARCH, m.Load)
	fmt.Fprintf(&sb, "runs per figure: %d (medians; min–max shown)%s; took %.0fs\n\n", r.Runs, map[bool]string{true: ", QUICK smoke run: inputs shrunk, figures not meaningful"}[r.Quick], r.Duration)
	sb.WriteString("| figure | unit | median | min | max | runs | note |\n|---|---|---|---|---|---|---|\n")
	last := -1
	for _, f := range r.Figures {
		if f.Section != last {
			fmt.Fprintf(&sb, "| **%s** | | | | | | |\n", r.title(f.Section))
			last = f.Section
		}
		fmt.Fprintf(&sb, "| %s | %s | **%s** | %s | %s | %d | %s |\n", f.Name, f.Unit, num(f.Median), num(f.Min), num(f.Max), f.Runs, f.Note)
	}
	sb.WriteString("\n| ratio (medians of the same run) | value | target | met | note |\n|---|---|---|---|---|\n")
	last = -1
	for _, q := range r.Ratios {
		if q.Section != last {
			fmt.Fprintf(&sb, "| **%s** | | | | |\n", r.title(q.Section))
			last = q.Section
		}
		met := ""
		if q.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*q.Met]
		}
		fmt.Fprintf(&sb, "| %s | **%s** | %s | %s | %s |\n", q.Name, num(q.Value), q.Target, met, q.Note)
	}
	if len(r.Skipped) > 0 {
		sb.WriteString("\nnot measured:\n")
		for _, s := range r.Skipped {
			fmt.Fprintf(&sb, "- %s\n", s)
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// num formats with 3 significant digits, using k/M suffixes for big values.
func num(x float64) string {
	switch a := abs(x); {
	case a >= 1e7:
		return strconv.FormatFloat(x/1e6, 'f', 1, 64) + "M"
	case a >= 1e6:
		return strconv.FormatFloat(x/1e6, 'f', 2, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(x/1e3, 'f', 1, 64) + "k"
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case a == 0:
		return "0"
	default:
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// title names a section in the tables.
func (r *Report) title(section int) string {
	if t, ok := r.sectionTitles[section]; ok {
		return t
	}
	return fmt.Sprintf("section %d", section)
}
