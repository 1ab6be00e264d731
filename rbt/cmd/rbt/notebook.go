package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

func init() {
	register("notebook", "serve the notebooks with Jupyter, always behind a token", runNotebook)
}

// notebookServer is the Jupyter command of rbt notebook: the one command
// that the README, the Dockerfile and the server test start.
type notebookServer struct {
	Jupyter string // the jupyter executable
	IP      string
	Port    int
	Dir     string // the notebook directory
	Token   string // never empty
	// ConfigDir receives the config file that carries the token (private, 0700).
	ConfigDir string
}

// command returns the jupyter command line. The token goes into a private
// config file (loaded last, so that no jupyter_notebook_config of the user's
// can switch it off, and out of the process list).
func (s notebookServer) command() (*exec.Cmd, error) {
	if s.Token == "" {
		return nil, errors.New("rbt notebook: refusing to start a server without a token")
	}
	cfg := filepath.Join(s.ConfigDir, "rbt_notebook_config.json")
	data, _ := json.Marshal(map[string]any{"NotebookApp": map[string]any{"token": s.Token, "open_browser": false}})
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		return nil, err
	}
	args := []string{"notebook", "--config=" + cfg, "--no-browser", "--ip=" + s.IP, "--port=" + strconv.Itoa(s.Port),
		"--port-retries=0", "--notebook-dir=" + s.Dir}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // CI containers; the Dockerfile runs as a user
	}
	cmd := exec.Command(s.Jupyter, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd, nil
}

// runNotebook: rbt notebook [-ip 127.0.0.1] [-port 8888] [-dir notebooks]
//
// Serves the notebooks with Jupyter (Debian's /usr/bin/jupyter, as CI
// installs it), always with a token: $JUPYTER_TOKEN, or a random one printed
// in the URL. It listens on 127.0.0.1 unless -ip says otherwise (the
// Dockerfile: 0.0.0.0, still behind the token).
func runNotebook(args []string) error {
	fs := flag.NewFlagSet("notebook", flag.ContinueOnError)
	ip := fs.String("ip", "127.0.0.1", "address to listen on (0.0.0.0: every interface, still token-protected)")
	port := fs.Int("port", 8888, "port")
	dir := fs.String("dir", "notebooks", "notebook directory")
	jupyter := fs.String("jupyter", "/usr/bin/jupyter", "jupyter executable (Debian's, installed by .ci/setup.sh)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if net.ParseIP(*ip) == nil {
		return fmt.Errorf("-ip %q is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)", *ip)
	}
	if *port < 1 || *port > 65535 {
		return fmt.Errorf("-port %d: want 1..65535", *port)
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		return fmt.Errorf("-dir %s is not a directory (run from the checkout, or give -dir)", *dir)
	}
	if _, err := os.Stat(*jupyter); err != nil {
		return fmt.Errorf("%s not found: install Jupyter with bash .ci/setup.sh (or give -jupyter)", *jupyter)
	}
	token := os.Getenv("JUPYTER_TOKEN")
	if token == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return failed(err)
		}
		token = hex.EncodeToString(b)
	}
	cfgDir, err := os.MkdirTemp("", "rbt-notebook-")
	if err != nil {
		return failed(err)
	}
	defer os.RemoveAll(cfgDir)
	s := notebookServer{Jupyter: *jupyter, IP: *ip, Port: *port, Dir: *dir, Token: token, ConfigDir: cfgDir}
	cmd, err := s.command()
	if err != nil {
		return failed(err)
	}
	host := *ip
	if host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	fmt.Printf("rbt notebook: serving %s on %s:%d; open http://%s/tree?token=%s\n", *dir, *ip, *port,
		net.JoinHostPort(host, strconv.Itoa(*port)), token)
	if err := cmd.Start(); err != nil {
		return failed(err)
	}
	// Forward SIGTERM (docker stop) and SIGINT to the server, then wait for it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range sigs {
			cmd.Process.Signal(sig)
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	close(sigs)
	if err != nil {
		return failed(fmt.Errorf("jupyter: %w", err))
	}
	return nil
}
