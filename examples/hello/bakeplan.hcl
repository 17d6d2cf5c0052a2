# One image, two platforms: the smallest useful bakeplan spec.

variable "REGISTRY" {
  description = "Where the image is pushed."
  default     = "127.0.0.1:5000"
}

variable "BASE" {
  description = "The base image; any image with a shell for linux/amd64 and linux/arm64."
  default     = "127.0.0.1:5000/busybox:latest"
}

host {
  emulators = ["arm64"] # this x86-64 host builds linux/arm64 under QEMU
}

registry "local" {
  host     = var.REGISTRY
  insecure = true
}

target "hello" {
  platforms = ["linux/amd64", "linux/arm64"]
  args      = { BASE = var.BASE }
  tags      = ["${var.REGISTRY}/hello:latest"]
  push      = true
}
