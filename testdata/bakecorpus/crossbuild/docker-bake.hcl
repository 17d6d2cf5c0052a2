# A Go tool built for many platforms without QEMU: the Dockerfile
# cross-compiles from the build platform, so no RUN runs on a foreign one.
variable "GO_VERSION" {
  default = null
}
variable "DESTDIR" {
  default = "./bin"
}
variable "BIN_OUT" {
  # A default built from another variable.
  default = "${DESTDIR}/build"
}
variable "RELEASE_OUT" {
  default = "${DESTDIR}/release"
}

// Special target: docker/metadata-action fills it from a JSON file (-f).
target "meta-helper" {
  tags = ["example/tool:local"]
}

target "_common" {
  args = {
    GO_VERSION                    = GO_VERSION
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = 1
  }
}

group "default" {
  targets = ["binaries"]
}

group "validate" {
  targets = ["lint", "validate-vendor"]
}

target "lint" {
  inherits   = ["_common"]
  dockerfile = "./hack/dockerfiles/lint.Dockerfile"
  output     = ["type=cacheonly"]
}

target "validate-vendor" {
  inherits   = ["_common"]
  dockerfile = "./hack/dockerfiles/vendor.Dockerfile"
  target     = "validate"
  output     = ["type=cacheonly"]
}

target "update-vendor" {
  inherits   = ["_common"]
  dockerfile = "./hack/dockerfiles/vendor.Dockerfile"
  target     = "update"
  output     = ["."]
}

target "binaries" {
  inherits  = ["_common"]
  target    = "binaries"
  output    = [BIN_OUT]
  platforms = ["local"]
}

target "binaries-cross" {
  inherits = ["binaries"]
  platforms = [
    "darwin/amd64",
    "darwin/arm64",
    "freebsd/amd64",
    "linux/amd64",
    "linux/arm/v6",
    "linux/arm/v7",
    "linux/arm64",
    "linux/mips64le",
    "linux/ppc64le",
    "linux/riscv64",
    "linux/s390x",
    "windows/amd64",
    "windows/arm64",
  ]
}

target "release" {
  inherits = ["binaries-cross"]
  target   = "release"
  output   = [RELEASE_OUT]
}

target "image" {
  inherits = ["meta-helper", "binaries"]
  output   = ["type=image"]
}

target "image-cross" {
  inherits = ["meta-helper", "binaries-cross"]
  output   = ["type=image,push=true"]
  platforms = ["linux/amd64", "linux/arm64", "linux/riscv64"]
}

target "docker-metadata-action" {}

target "image-ci" {
  inherits = ["image-cross", "docker-metadata-action"]
}
