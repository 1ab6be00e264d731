package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNotebookCommandNeedsToken: the server command is never built without a
// token, and always carries it in the config file given last.
func TestNotebookCommandNeedsToken(t *testing.T) {
	s := notebookServer{Jupyter: "/usr/bin/jupyter", IP: "0.0.0.0", Port: 8888, Dir: ".", ConfigDir: t.TempDir()}
	if _, err := s.command(); err == nil {
		t.Fatal("a server without a token was started")
	}
	s.Token = "t0ken"
	cmd, err := s.command()
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(cmd.Args, " ")
	if strings.Contains(joined, "t0ken") || !strings.Contains(joined, "--config=") || strings.Contains(joined, "token=") {
		t.Errorf("command line %q: want the token only in the config file", joined)
	}
	data, _ := os.ReadFile(filepath.Join(s.ConfigDir, "rbt_notebook_config.json"))
	if !strings.Contains(string(data), `"token":"t0ken"`) {
		t.Errorf("config %s", data)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// listensOn returns the local addresses (hex, as /proc/net/tcp writes them)
// of the sockets listening on port.
func listensOn(t *testing.T, port int) []string {
	var out []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 3 && fields[3] == "0A" && strings.HasSuffix(fields[1], fmt.Sprintf(":%04X", port)) {
				out = append(out, fields[1])
			}
		}
	}
	return out
}

// TestNotebookServerToken starts the server exactly as the README and the
// Dockerfile do (rbt notebook), on a random port, with a user config that
// tries to switch the token off: a request without the token is refused
// (403, or a redirect to the login page), one with it is served; on
// 127.0.0.1 it listens on loopback only.
func TestNotebookServerToken(t *testing.T) {
	const jupyter = "/usr/bin/jupyter"
	if _, err := os.Stat(jupyter); err != nil {
		t.Skipf("%s missing (CI installs it with .ci/setup.sh): %v", jupyter, err)
	}
	nbDir, _ := filepath.Abs("../../../notebooks")
	for _, ip := range []string{"127.0.0.1", "0.0.0.0"} {
		t.Run(ip, func(t *testing.T) {
			port := freePort(t)
			cfg := t.TempDir()
			os.WriteFile(filepath.Join(cfg, "jupyter_notebook_config.json"), []byte(`{"NotebookApp": {"token": "", "password": ""}}`), 0o644)
			cmd := exec.Command(rbtBinary(t), "notebook", "-ip", ip, "-port", fmt.Sprint(port), "-dir", nbDir)
			cmd.Env = append(filteredEnv(), "JUPYTER_CONFIG_DIR="+cfg, "JUPYTER_RUNTIME_DIR="+t.TempDir(), "JUPYTER_TOKEN=")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cmd.Process.Signal(syscall.SIGTERM)
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			}()
			sc := bufio.NewScanner(out)
			if !sc.Scan() {
				t.Fatalf("no output; stderr:\n%s", stderr.String())
			}
			m := regexp.MustCompile(`token=([0-9a-f]{48})$`).FindStringSubmatch(sc.Text())
			if m == nil {
				t.Fatalf("no token in %q", sc.Text())
			}
			token := m[1]
			go func() {
				for sc.Scan() {
				}
			}()
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			get := func(path string, header ...string) (int, string) {
				req, _ := http.NewRequest("GET", base+path, nil)
				if len(header) == 2 {
					req.Header.Set(header[0], header[1])
				}
				resp, err := client.Do(req)
				if err != nil {
					return 0, err.Error()
				}
				resp.Body.Close()
				return resp.StatusCode, resp.Header.Get("Location")
			}
			deadline := time.Now().Add(90 * time.Second)
			for {
				if code, _ := get("/login"); code == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("server not up after 90 s; stderr:\n%s", stderr.String())
				}
				time.Sleep(200 * time.Millisecond)
			}
			refused := func(what string, code int, loc string) {
				if !(code == http.StatusForbidden || (code == http.StatusFound && strings.Contains(loc, "/login"))) {
					t.Errorf("%s: status %d (Location %q), want 403 or a redirect to /login", what, code, loc)
				}
			}
			code, loc := get("/tree")
			refused("GET /tree without the token", code, loc)
			code, loc = get("/api/contents")
			refused("GET /api/contents without the token", code, loc)
			code, loc = get("/api/contents?token=" + strings.Repeat("0", 48))
			refused("GET /api/contents with a wrong token", code, loc)
			if code, _ := get("/tree?token=" + token); code != http.StatusOK {
				t.Errorf("GET /tree with the token: %d", code)
			}
			if code, _ := get("/api/contents", "Authorization", "token "+token); code != http.StatusOK {
				t.Errorf("GET /api/contents with the token header: %d", code)
			}
			addrs := listensOn(t, port)
			if len(addrs) == 0 {
				t.Errorf("nothing listens on port %d", port)
			}
			for _, a := range addrs {
				if ip == "127.0.0.1" && !strings.HasPrefix(a, "0100007F:") {
					t.Errorf("-ip 127.0.0.1 listens on %s (not loopback)", a)
				}
			}
		})
	}
}
