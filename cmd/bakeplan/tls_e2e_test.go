package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/docker/cli/cli/config"
)

// TestTLSRegistryWithLogin: a registry on a loopback address that speaks
// TLS with a private CA and wants a login. plan probes it with the declared
// CA and the Docker config's credentials, apply pushes (through a buildkitd
// that trusts the CA) and tags; wrong credentials fail before any build or
// tag; without ca_cert the probe names the certificate problem.
func TestTLSRegistryWithLogin(t *testing.T) {
	env := testenv.Get(t)
	repo := fmt.Sprintf("e2e-tls-%d", time.Now().UnixNano())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte(repo), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := func(caCert bool, tag string) string {
		ca := ""
		if caCert {
			ca = fmt.Sprintf("  ca_cert = %q\n", env.TLSCA)
		}
		body := fmt.Sprintf(`builder "default" {
  endpoint = %q
}
registry "secure" {
  host = %q
%s}
target "img" {
  dockerfile_inline = "FROM scratch\nCOPY f /f"
  platforms = ["linux/amd64"]
  tags = ["%s/%s:%s"]
  push = true
}
`, env.TLSBuildkit, env.TLSRegistry, ca, env.TLSRegistry, repo, tag)
		path := filepath.Join(dir, "bakeplan.hcl")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	orig := config.Dir()
	t.Cleanup(func() { config.SetDir(orig) })
	login := func(password string) {
		cfg := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte(env.TLSUser + ":" + password))
		body := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, env.TLSRegistry, auth)
		if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		// The Docker CLI's config package reads DOCKER_CONFIG once per
		// process; this test logs in three times.
		config.SetDir(cfg)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(env.TLSCA)
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("reading the test CA: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	tagged := func(tag string) bool {
		req, _ := http.NewRequest(http.MethodHead, "https://"+env.TLSRegistry+"/v2/"+repo+"/manifests/"+tag, nil)
		req.SetBasicAuth(env.TLSUser, env.TLSPassword)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}

	login(env.TLSPassword)
	out, errOut, code := runWith(t, nil, "plan", "-f", spec(true, "v1"))
	if code != 0 || !strings.Contains(out, "credentials accepted") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := runWith(t, nil, "apply", "--auto-approve", "--progress", "quiet", "-f", spec(true, "v1")); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	if !tagged("v1") {
		t.Errorf("v1 was not tagged")
	}

	login("wrong-password")
	for _, verb := range [][]string{{"plan"}, {"apply", "--auto-approve", "--progress", "quiet"}} {
		_, errOut, code := runWith(t, nil, append(verb, "-f", spec(true, "v2"))...)
		if code != 1 || !strings.Contains(errOut, "Registry secure refuses the credentials") {
			t.Errorf("%s with wrong credentials: exit %d\n%s", verb[0], code, errOut)
		}
	}
	if tagged("v2") {
		t.Errorf("v2 was tagged with wrong credentials")
	}

	login(env.TLSPassword)
	_, errOut, code = runWith(t, nil, "plan", "-f", spec(false, "v1"))
	if code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("plan without ca_cert: exit %d\n%s", code, errOut)
	}
}
