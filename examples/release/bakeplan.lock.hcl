# This file is maintained by "bakeplan lock": the digest each image the
# builds pull is pinned to. Review changes to it like code; apply builds
# from these bytes even when a tag moves. "bakeplan lock -upgrade" moves pins.

image "docker.io/library/debian:bookworm-slim" {
  digest = "sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251"
  platforms = {
    "linux/amd64" = "sha256:f3034a6ec3c1205360777c4aae76234998866ad18806ae62b63a3f84ccad782b"
    "linux/arm64" = "sha256:0c8bbb8e987a035fe1d9704eb2e571b7e9a836e1caa46345290674b45b69e417"
  }
}
