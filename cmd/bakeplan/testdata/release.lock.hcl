# Test data: the lock file examples/release needs, with made-up digests,
# for plans made offline (goldens); nothing pulls them.
image "docker.io/library/debian:bookworm-slim" {
  digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
}
