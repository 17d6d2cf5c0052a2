variable "REGISTRY" {
  default     = "registry:5000/pipeline"
  description = "The registry/repo namespace under which to publish images."
}

variable "TAG" {
  default     = "latest"
  description = "The tag to use for published images."
}

function "versiontags" {
  # A tag for each part of TAG read as a version: v1, v1.2, v1.2.3.
  params = [variant]
  result = [
    for i in range(length(split(".", TAG))) :
    join("", ["${REGISTRY}/${variant}:", join(".", slice(split(".", TAG), 0, i + 1))])
  ]
}

target "common" {
  context    = "."
  dockerfile = ".pipeline/build.yaml"

  args = {
    # The frontend, declared as a build arg too, so that trusted runners
    # need not read the file's syntax line.
    BUILDKIT_SYNTAX               = "registry.example.com/frontends/pipeline:v1.6.0"
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = "1"
  }
}

group "default" {
  targets = [
    "buildkit",
  ]
}

target "make" {
  inherits = ["common"]
  name     = make_target
  target   = "make"
  args = {
    MAKE_TARGET = make_target
  }
  matrix = {
    make_target = ["lint", "unit"]
  }
}

target "buildkit" {
  inherits  = ["common"]
  target    = "buildkit"
  platforms = ["linux/amd64", "linux/arm64"]
  attest    = ["type=provenance,mode=max"]
  tags      = versiontags("buildkit")
  output    = ["type=registry"]
}

target "docs" {
  inherits = ["common"]
  target   = "docs-for-publishing"
  output   = ["type=local,dest=dist/docs"]
}
