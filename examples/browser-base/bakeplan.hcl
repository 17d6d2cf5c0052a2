# The guide's case: a Chromium base image that ran badly on ARM Macs because
# it was built only for x86. One x86 CI server now builds it for both, and the
# app is built on top of it through a named context, for the same platforms.

variable "REGISTRY" {
  default = "registry.example.com"
}

variable "VERSION" {
  default = "dev"
}

locals {
  repo      = "${var.REGISTRY}/team"
  platforms = ["linux/amd64", "linux/arm64"]
}

host {
  docker {
    image_store = "containerd" # only this store holds multi-platform images
  }
  emulators = ["arm64"]
}

registry "internal" {
  host = var.REGISTRY
}

target "browser-base" {
  description = "Debian with Chromium for puppeteer"
  context     = "docker/base"
  platforms   = local.platforms
  args        = { BROWSER = "chromium" }
  tags        = ["${local.repo}/browser-base:${var.VERSION}"]
  push        = true
}

target "app" {
  context   = "app"
  contexts  = { base = target.browser-base } # FROM base uses the image built above
  platforms = target.browser-base.platforms
  tags      = ["${local.repo}/app:${var.VERSION}"]
  push      = true
  output    = [{ type = "docker" }] # also load both platforms into Docker
}

group "default" {
  targets = [target.app]
}
