package endpoint_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		declared string
		env      endpoint.Env
		want     string
		docker   bool
	}{
		{"auto", endpoint.Env{BuildkitHost: "tcp://b:1234"}, "tcp://b:1234", false},
		{"auto", endpoint.Env{DockerHost: "unix:///run/d.sock"}, "docker+unix:///run/d.sock", true},
		{"docker", endpoint.Env{BuildkitHost: "tcp://ignored:1"}, "docker+unix:///var/run/docker.sock", true},
		{"unix:///run/buildkit/buildkitd.sock", endpoint.Env{}, "unix:///run/buildkit/buildkitd.sock", false},
		{"docker-container://buildkitd", endpoint.Env{}, "docker-container://buildkitd", false},
	}
	for _, tt := range tests {
		r := endpoint.Resolve(tt.declared, tt.env)
		if r.Address != tt.want || r.Docker != tt.docker {
			t.Errorf("Resolve(%q, %+v) = %+v, want %s docker=%t", tt.declared, tt.env, r, tt.want, tt.docker)
		}
	}
}

func TestConnectUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := endpoint.Connect(ctx, endpoint.Resolve("unix:///nonexistent/buildkitd.sock", endpoint.Env{}))
	if err == nil || !strings.Contains(err.Error(), "unix:///nonexistent/buildkitd.sock") {
		t.Errorf("error %v; want one naming the endpoint", err)
	}
}

// TestConnectTLS starts a real buildkitd that demands client certificates
// on tcp:// and connects with and without them.
func TestConnectTLS(t *testing.T) {
	bin := testenv.Get(t).Bin
	dir := t.TempDir()
	ca, caKey := writeCA(t, dir)
	writeLeaf(t, dir, "server", ca, caKey, true)
	writeLeaf(t, dir, "client", ca, caKey, false)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(filepath.Join(bin, "buildkitd"), "--addr", "tcp://"+addr, "--root", filepath.Join(dir, "root"),
		"--oci-worker=true", "--containerd-worker=false",
		"--tlscacert", filepath.Join(dir, "ca.pem"), "--tlscert", filepath.Join(dir, "server.pem"), "--tlskey", filepath.Join(dir, "server-key.pem"))
	log, _ := os.Create(filepath.Join(dir, "buildkitd.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	r := endpoint.Resolve("tcp://"+addr, endpoint.Env{})
	r.TLS = &endpoint.TLS{
		CACert: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "client.pem"),
		Key: filepath.Join(dir, "client-key.pem"), ServerName: "127.0.0.1",
	}
	var lastErr error
	for i := 0; i < 60; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := endpoint.Connect(ctx, r)
		cancel()
		if err == nil {
			c.Close()
			lastErr = nil
			break
		}
		lastErr = err
		time.Sleep(250 * time.Millisecond)
	}
	if lastErr != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "buildkitd.log"))
		t.Fatalf("connecting with TLS: %v\n%s", lastErr, b)
	}

	noCert := r
	noCert.TLS = &endpoint.TLS{CACert: filepath.Join(dir, "ca.pem"), ServerName: "127.0.0.1"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := endpoint.Connect(ctx, noCert); err == nil {
		c.Close()
		t.Errorf("a client without a certificate was let in")
	}
}

func writeCA(t *testing.T, dir string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bakeplan test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", der)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func writeLeaf(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, server bool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der)
	kb, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, filepath.Join(dir, name+"-key.pem"), "EC PRIVATE KEY", kb)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(fmt.Errorf("writing %s: %w", path, err))
	}
}

// TestKubePodRunsKubectl: a kube-pod:// endpoint is dialled through
// kubectl exec in the pod, with the URL's namespace and context; a fake
// kubectl records what it was asked and fails, and the failure names the
// endpoint.
func TestKubePodRunsKubectl(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" > %s\necho 'no cluster here' >&2\nexit 1\n", args)
	if err := os.WriteFile(filepath.Join(dir, "kubectl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	r := endpoint.Resolve("kube-pod://buildkitd-0?namespace=ci&context=prod", endpoint.Env{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := endpoint.Dial(ctx, r)
	if err == nil || !strings.Contains(err.Error(), "kube-pod://buildkitd-0") {
		t.Fatalf("dial through a failing kubectl: %v", err)
	}
	got, _ := os.ReadFile(args)
	want := "--context=prod --namespace=ci exec --container= -i buildkitd-0 -- buildctl dial-stdio"
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("kubectl was run with %q, want %q", strings.TrimSpace(string(got)), want)
	}
}

// TestDockerContainerResolves: docker-container://NAME is the container
// NAME on the Docker Engine at DOCKER_HOST (Docker's socket by default).
func TestDockerContainerResolves(t *testing.T) {
	for _, tc := range []struct {
		env        endpoint.Env
		wantHost   string
		wantTarget string
	}{
		{endpoint.Env{}, "unix:///var/run/docker.sock", "buildx_buildkit_ci0"},
		{endpoint.Env{DockerHost: "tcp://docker:2375"}, "tcp://docker:2375", "buildx_buildkit_ci0"},
	} {
		r := endpoint.Resolve("docker-container://buildx_buildkit_ci0", tc.env)
		if r.Container != tc.wantTarget || r.DockerHost != tc.wantHost || r.Docker {
			t.Errorf("%+v: %+v", tc.env, r)
		}
	}
}
