# Variants from a matrix, tags from a function, a test image built on a
# target's result, and platforms a CI job sets from the environment.
variable "REGISTRY" {
  default = "registry.example.com/team"
}
variable "TAG" {
  default = "v1.2.3"
}
variable "PLATFORMS" {
  type    = list(string)
  default = ["linux/amd64"]
}
variable "GO_VERSION" {
  default = "1.26"
}
variable "TEST_VARIANT" {
  default = "unit"
}
variable "CACHE_REF" {
  # Set in CI; null elsewhere.
  default = null
}

function "versiontags" {
  # One tag per part of the version: v1, v1.2, v1.2.3.
  params = [variant]
  result = [
    for i in range(length(split(".", TAG))) :
    join("", ["${REGISTRY}/${variant}:", join(".", slice(split(".", TAG), 0, i + 1))])
  ]
}

function "cache" {
  params = [name]
  result = CACHE_REF == null ? [] : ["type=registry,ref=${CACHE_REF}-${name}"]
}

target "common" {
  args = {
    GO_VERSION                    = GO_VERSION
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = "1"
  }
}

group "default" {
  targets = ["app", "tools"]
}

target "app" {
  inherits   = ["common"]
  target     = "app"
  platforms  = PLATFORMS
  tags       = versiontags("app")
  attest     = ["type=provenance,mode=max", "type=sbom"]
  output     = ["type=registry"]
  cache-from = cache("app")
}

target "tools" {
  inherits = ["common"]
  name     = "tool-${tool.name}-${md5(tool.version)}"
  matrix = {
    tool = [
      { name = "lint", version = "2.1" },
      { name = "vet", version = "1.0" },
    ]
  }
  target = "tool"
  args = {
    TOOL         = tool.name
    TOOL_VERSION = tool.version
  }
  output = ["type=local,dest=out/${tool.name}"]
}

target "make" {
  inherits = ["common"]
  name     = make_target
  target   = "make"
  args = {
    MAKE_TARGET = make_target
  }
  matrix = {
    make_target = ["build", "check"]
  }
}

target "test-unit" {
  inherits = ["common"]
  target   = "test"
  args = {
    KIND = "unit"
  }
}

target "test-integration" {
  inherits = ["common"]
  target   = "test"
  args = {
    KIND = "integration"
  }
}

target "test" {
  inherits = ["test-${TEST_VARIANT}"]
  contexts = {
    app = "target:app"
  }
  output = ["type=cacheonly"]
}
