package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// results is everything the bench reports; it is written as JSON.
type results struct {
	Machine     Machine   `json:"machine"`
	HelmVersion string    `json:"helmVersion"`
	Command     string    `json:"command"`
	Started     time.Time `json:"started"`
	Rows        []*Row    `json:"rows"`
	// Seconds is how long the measures took, without building the tools and starting the
	// sandbox; Phases splits it.
	Seconds float64 `json:"seconds"`
	Phases  []Phase `json:"phases"`
}

// Phase is how long one group of measures took.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Machine describes where the bench ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryGiB int    `json:"memoryGiB"`
	LoadAvg   string `json:"loadAverageAtStart"`
	Go        string `json:"go"`
	OS        string `json:"os"`
}

// Tool is one tool's side of a measure.
type Tool struct {
	Command    string    `json:"command"`
	SamplesMs  []float64 `json:"samplesMs"`
	MedianMs   float64   `json:"medianMs"`
	PeakRSSMiB float64   `json:"peakRssMiB,omitempty"`
	Requests   int       `json:"apiRequests,omitempty"`
	// RequestPaths are the requests of the counted run, method and path.
	RequestPaths []string `json:"requestPaths,omitempty"`
}

// Row is one measure: storectl, and helm or a storectl baseline to compare with.
type Row struct {
	Measure  string  `json:"measure"`
	Storectl *Tool   `json:"storectl"`
	Other    *Tool   `json:"other,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"` // storectl median / other median
	Target   string  `json:"target,omitempty"`
	Met      *bool   `json:"met,omitempty"`
	Note     string  `json:"note,omitempty"`
}

func newResults() *results {
	return &results{Started: time.Now().UTC(), Command: "make bench"}
}

// tool summarises samples of one command.
func tool(command string, runs []runResult) *Tool {
	t := &Tool{Command: command}
	for _, r := range runs {
		t.SamplesMs = append(t.SamplesMs, ms(r.wall))
		t.PeakRSSMiB = max(t.PeakRSSMiB, float64(r.rssKiB)/1024)
	}
	t.MedianMs = median(t.SamplesMs)
	return t
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// add records a row, with the ratio when there is something to compare with.
func (r *results) add(row *Row) *Row {
	if row.Other != nil && row.Other.MedianMs > 0 {
		row.Ratio = row.Storectl.MedianMs / row.Other.MedianMs
	}
	r.Rows = append(r.Rows, row)
	return row
}

func verdict(ok bool) *bool { return &ok }

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGiB = (kb + 1<<19) >> 20
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// report prints the table on stdout and writes the JSON.
func (b *bench) report(path string) error {
	r := b.res
	fmt.Printf("machine: %d CPUs (%s), %d GiB, load %s at start; %s; helm %s\n\n",
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemoryGiB, r.Machine.LoadAvg, r.Machine.Go, r.HelmVersion)
	fmt.Printf("measures took %s\n\n", (time.Duration(r.Seconds) * time.Second).Round(time.Second))
	fmt.Println("| measure | storectl | compared with | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, row := range r.Rows {
		other, ratio := "", ""
		if row.Other != nil {
			other = cell(row.Other)
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		met := ""
		if row.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*row.Met]
		}
		measure := row.Measure
		if row.Note != "" {
			measure += " (" + row.Note + ")"
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", measure, cell(row.Storectl), other, ratio, row.Target, met)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// cell renders a tool's median, peak memory and API requests.
func cell(t *Tool) string {
	s := fmtMs(t.MedianMs)
	if t.PeakRSSMiB > 0 {
		s += fmt.Sprintf(", %.0f MiB", t.PeakRSSMiB)
	}
	if t.Requests > 0 {
		s += fmt.Sprintf(", %d req", t.Requests)
	}
	return s + " `" + t.Command + "`"
}

func fmtMs(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.0f ms", v)
}
