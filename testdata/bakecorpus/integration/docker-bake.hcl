# A daemon with integration tests: images loaded into Docker for several
# platforms, contexts chosen by a condition, an output directory that may be
# empty, and lint variants from a matrix.
variable "DESTDIR" {
  default = ""
}
variable "TEST_CONTEXT" {
  default = "."
}
variable "TEST_BINARIES_CONTEXT" {
  default = TEST_CONTEXT
}
variable "TEST_IMAGE_NAME" {
  default = "daemon-tests"
}
variable "TEST_COVERAGE" {
  default = null
}
variable "LINT_MULTIPLATFORM" {
  default = null
}
variable "IMAGE_TARGET" {
  default = null
}

function "bindir" {
  params = [defaultdir]
  result = DESTDIR != "" ? DESTDIR : "./bin/${defaultdir}"
}

target "meta-helper" {
  tags = [IMAGE_TARGET != null && IMAGE_TARGET != "" ? "example/daemon:local-${IMAGE_TARGET}" : "example/daemon:local"]
}

target "_common" {
  args = {
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = 1
  }
}

target "binaries" {
  inherits = ["_common"]
  target   = "binaries"
  output   = [bindir("build")]
}

target "image" {
  inherits = ["_common", "meta-helper"]
  target   = IMAGE_TARGET
  cache-to = ["type=inline"]
  output   = ["type=docker"]
}

target "image-cross" {
  inherits = ["image"]
  output   = ["type=image,oci-artifact=true"]
  platforms = [
    "linux/amd64",
    "linux/arm64",
  ]
}

target "integration-tests-binaries" {
  inherits = ["_common"]
  target   = "binaries"
  context  = TEST_BINARIES_CONTEXT
}

target "integration-tests" {
  inherits = ["_common"]
  target   = "integration-tests"
  context  = TEST_CONTEXT
  contexts = TEST_CONTEXT != TEST_BINARIES_CONTEXT ? {
    "binaries" = "target:integration-tests-binaries"
  } : null
  args = {
    GOBUILDFLAGS = TEST_COVERAGE == "1" ? "-cover" : null
  }
  output = [
    "type=docker,name=${TEST_IMAGE_NAME}",
  ]
}

target "lint" {
  name       = "lint-${buildtags.name}"
  inherits   = ["_common"]
  dockerfile = "./hack/dockerfiles/lint.Dockerfile"
  output     = ["type=cacheonly"]
  target     = buildtags.target
  args = {
    BUILDTAGS = buildtags.tags
  }
  platforms = buildtags.target == "golangci-lint" && LINT_MULTIPLATFORM != null ? [
    "linux/amd64",
    "linux/arm64",
  ] : []
  matrix = {
    buildtags = [
      { name = "default", tags = "", target = "golangci-lint" },
      { name = "labs", tags = "labs", target = "golangci-lint" },
      { name = "yaml", tags = "", target = "yamllint" },
    ]
  }
}

target "govulncheck" {
  inherits        = ["_common"]
  dockerfile      = "./hack/dockerfiles/lint.Dockerfile"
  target          = "yamllint"
  no-cache-filter = ["yamllint"]
  output          = ["${DESTDIR}"]
}
