# A reproducible release: every image records the commit time of git HEAD
# (SOURCE_DATE_EPOCH), its layers' file times are rewritten to it, and every
# image it pulls is pinned in bakeplan.lock.hcl, so the same commit builds
# the same digests anywhere, and bakeplan verify proves it. Run
# `bakeplan lock` once to write the lock file, and commit it.
#
# It also shows validated variables, a user function, a matrix, groups and a
# build secret.

release {
  source_date_epoch = "git"
}

variable "VERSION" {
  type        = string
  default     = "dev"
  description = "The release version: dev, or vX.Y.Z for a release."
  validation {
    condition     = can(regex("^(dev|v[0-9]+[.][0-9]+[.][0-9]+)$", var.VERSION))
    error_message = "VERSION must be dev or vX.Y.Z."
  }
}

variable "BASE" {
  type        = string
  default     = "debian:bookworm-slim"
  description = "The image every stage starts from; bakeplan lock pins it."
}

variable "REGISTRY" {
  type    = string
  default = "registry.example.com/team"
}

function "image" {
  params = [name]
  result = "${var.REGISTRY}/${name}:${var.VERSION}"
}

locals {
  platforms = ["linux/amd64", "linux/arm64"]
  labels = {
    "org.opencontainers.image.version" = var.VERSION
    "org.opencontainers.image.source"  = "https://example.com/team/release"
  }
}

host {
  emulators = ["arm64"]
}

registry "team" {
  host = split("/", var.REGISTRY)[0]
}

target "_common" {
  platforms = local.platforms
  labels    = local.labels
  args      = { BASE = var.BASE }
}

target "cli" {
  name      = "cli-${edition}"
  matrix    = { edition = ["community", "enterprise"] }
  inherits  = [target._common]
  context   = "cmd/cli"
  args      = { EDITION = edition } # merged with _common's, as bake does
  # A credential is a build secret, read from the environment when the
  # build runs: never a build arg, which the image's history publishes.
  secret    = [{ id = "git_token", env = "GIT_TOKEN" }]
  tags      = [image("cli-${edition}")]
  push      = true
}

target "server" {
  inherits   = [target._common]
  context    = "cmd/server"
  target     = "runtime"
  args       = { GO_VERSION = "1.26" }
  depends_on = [target.cli]
  tags       = [image("server"), "${var.REGISTRY}/server:latest"]
  push       = true
}

group "release" {
  targets = [target.cli, target.server]
}

group "default" {
  targets = [group.release]
}
