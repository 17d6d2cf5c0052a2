# Images of a language runtime: one target per release line from a
# function with a list result, a dynamic parent (inherits = ["os-${OS}"]),
# tags from a for expression, an override file given by CI (redefining a
# target: its attributes win), and args a
# template merges key by key.
variable "OS" {
  default = "debian"
}
variable "LINES" {
  type    = list(string)
  default = ["3.12", "3.13"]
}
variable "REGISTRY" {
  default = "registry.example.com/lang"
}

function "minor_tags" {
  params = [line, suffix]
  result = [for t in [line, "${line}-${suffix}"] : "${REGISTRY}/runtime:${t}"]
}

target "os-debian" {
  args = {
    BASE_OS  = "debian"
    PKG_TOOL = "apt-get"
  }
}

target "os-alpine" {
  args = {
    BASE_OS  = "alpine"
    PKG_TOOL = "apk"
  }
}

target "runtime" {
  inherits = ["os-${OS}"]
  name     = "runtime-${replace(line, ".", "-")}"
  matrix   = { line = LINES }
  args = {
    LINE = line
  }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = minor_tags(line, OS)
}

target "docs" {
  dockerfile = "docs.Dockerfile"
  output     = ["type=local,dest=out/docs"]
}

group "default" {
  targets = [for l in LINES : "runtime-${replace(l, ".", "-")}"]
}
