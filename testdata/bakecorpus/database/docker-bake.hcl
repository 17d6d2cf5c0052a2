# Images of a database server: a version x variant matrix of objects, a
# default group computed from a version list, a template listing more
# platforms than any image builds, a single-platform helper stage fed to
# every platform as a context, the builder's platform as an arg, and a
# group for a CI file that is not given here (it names a target that file
# would define).
variable "VERSIONS" {
  type    = list(string)
  default = ["16", "17"]
}
variable "REGISTRY" {
  default = "registry.example.com/db"
}

target "_platforms" {
  platforms = ["linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"]
}

target "_common" {
  inherits = ["_platforms"]
  args = {
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = "1"
    BUILD_PLATFORM                = BAKE_LOCAL_PLATFORM
  }
  labels = {
    "org.opencontainers.image.source" = "https://example.com/db"
  }
}

target "helper" {
  dockerfile = "helper.Dockerfile"
  platforms  = ["linux/amd64"]
}

target "server" {
  inherits = ["_common"]
  name     = "server-${item.version}-${item.variant}"
  matrix = {
    item = [
      { version = "16", variant = "bookworm" },
      { version = "17", variant = "bookworm" },
      { version = "17", variant = "alpine" },
    ]
  }
  args = {
    PG_VERSION = item.version
    VARIANT    = item.variant
  }
  platforms = item.variant == "alpine" ? ["linux/amd64"] : ["linux/amd64", "linux/arm64"]
  contexts  = { helper = "target:helper" }
  tags      = ["${REGISTRY}/server:${item.version}-${item.variant}"]
}

group "default" {
  targets = [for v in VERSIONS : "server-${v}-bookworm"]
}

group "alpine" {
  targets = concat(["server-17-alpine"], [])
}

group "ci" {
  targets = ["server-17-bookworm", "integration-tests"]
}

# Extension images, as extension projects write them: a chain of three
# parents, a numeric arg, a platform with its variant, a context target
# chosen by a variable, and a name from a user function.
variable "PG" {
  default = "17"
}

function "major" {
  params = [version]
  result = index(split(".", version), 0)
}

target "ext_shared" {
  platforms = ["linux/amd64", "linux/arm64/v8"]
}

target "ext_base" {
  inherits = ["ext_shared"]
  contexts = {
    server = "target:ext_server_${PG}"
  }
  args = {
    PG_MAJOR = PG
  }
}

target "ext_server_17" {
  dockerfile = "helper.Dockerfile"
  platforms  = ["linux/amd64", "linux/arm64/v8"]
}

target "ext" {
  inherits = ["ext_base"]
  name     = "ext-${major(v)}"
  matrix   = { v = ["17.5"] }
  args = {
    EXT_LEVEL = 3
    VERSION   = v
  }
  tags = ["${REGISTRY}/ext:${v}"]
}
