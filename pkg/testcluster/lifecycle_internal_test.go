package testcluster

import (
	"bufio"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The sandbox listens on loopback only, and down leaves none of its
// processes behind. A private sandbox is used, since the test stops it.
func TestSandboxListensOnLoopbackAndStopsCleanly(t *testing.T) {
	t.Parallel()
	c := Private(t)
	state := ""
	for _, kv := range c.env {
		if v, ok := strings.CutPrefix(kv, "XDG_STATE_HOME="); ok {
			state = v
		}
	}
	if state == "" {
		t.Fatal("a private sandbox has no state directory of its own")
	}

	pids := processesMentioning(t, state)
	// etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
	// kwok-controller and the provisioner.
	if len(pids) != 6 {
		var names []string
		for _, pid := range pids {
			names = append(names, command(pid))
		}
		t.Fatalf("%d processes of the sandbox, want 6: %v", len(pids), names)
	}
	listeners := listeningSockets(t)
	count := 0
	for _, pid := range pids {
		for _, inode := range socketInodes(pid) {
			addr, ok := listeners[inode]
			if !ok {
				continue
			}
			count++
			if !addr.IsLoopback() {
				t.Errorf("process %d (%s) listens on %s, want loopback only", pid, command(pid), addr)
			}
		}
	}
	// etcd's client and peer ports, and one port each for the API server,
	// the controller manager, the scheduler and the kwok controller.
	if count < 6 {
		t.Errorf("found %d listening sockets of the sandbox, want at least 6", count)
	}

	if _, err := runScriptEnv(c.env, c.script, "down"); err != nil {
		t.Fatal(err)
	}
	if left := processesMentioning(t, state); len(left) != 0 {
		for _, pid := range left {
			t.Errorf("process %d (%s) still runs after down", pid, command(pid))
		}
	}
}

// processesMentioning returns the live processes whose command line
// mentions s; zombies waiting to be reaped have ended and do not count.
func processesMentioning(t *testing.T, s string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		// The guard that waits for this test process mentions the state
		// directory too, but it is the script's shell, not the sandbox.
		switch command(pid) {
		case "bash", "setsid", "sleep":
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func command(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return strings.TrimSpace(string(b))
}

func socketInodes(pid int) []string {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var inodes []string
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes = append(inodes, strings.TrimSuffix(inode, "]"))
		}
	}
	return inodes
}

// listeningSockets maps the inode of every listening TCP socket to its address.
func listeningSockets(t *testing.T) map[string]net.IP {
	t.Helper()
	out := map[string]net.IP{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		s := bufio.NewScanner(f)
		s.Scan() // header
		for s.Scan() {
			fields := strings.Fields(s.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			host, _, _ := strings.Cut(fields[1], ":")
			ip, err := procIP(host)
			if err != nil {
				t.Fatalf("%s: address %q: %v", file, fields[1], err)
			}
			out[fields[9]] = ip
		}
		f.Close()
	}
	return out
}

// procIP decodes an address of /proc/net/tcp*: 32-bit words in host (little
// endian) order.
func procIP(h string) (net.IP, error) {
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, err
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), nil
}
