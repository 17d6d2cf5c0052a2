# A documentation site: tasks that only check (cacheonly), a release that
# writes files, deploy steps with secrets from the environment.
variable "SITE_ENV" {
  default = null
}
variable "SITE_URL" {
  default = null
}
variable "SITE_DIR" {
  default = "public"
}
variable "DRY_RUN" {
  default = null
}
variable "AWS_REGION" {
  default = ""
}

group "default" {
  targets = ["release"]
}

target "release" {
  args = {
    SITE_ENV = SITE_ENV
    SITE_URL = SITE_URL
  }
  target     = "release"
  output     = [SITE_DIR]
  provenance = false
}

group "validate" {
  targets = ["lint", "test", "dockerfile-lint"]
}

target "test" {
  target = "test"
  output = ["type=cacheonly"]
}

target "lint" {
  target = "lint"
  output = ["type=cacheonly"]
}

target "dockerfile-lint" {
  call = "check"
}

#
# deploy targets are defined in hack/releaser/Dockerfile
#
target "_common-aws" {
  args = {
    DRY_RUN    = DRY_RUN
    AWS_REGION = AWS_REGION
  }
  secret = [
    "id=AWS_ACCESS_KEY_ID,env=AWS_ACCESS_KEY_ID",
    "id=AWS_SECRET_ACCESS_KEY,env=AWS_SECRET_ACCESS_KEY",
    "type=env,id=AWS_SESSION_TOKEN,src=AWS_TOKEN",
  ]
}

target "deploy" {
  inherits = ["_common-aws"]
  context  = "hack/releaser"
  target   = "deploy"
  contexts = {
    sitedir = SITE_DIR
  }
  no-cache-filter = ["deploy"]
  output          = ["type=cacheonly"]
}

target "validate-upstream" {
  # bake reads no args block: only args = { ... }.
  args {
    UPSTREAM = "x"
  }
  target = "test"
  output = ["type=cacheonly"]
}
