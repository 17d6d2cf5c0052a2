# Three platforms, no emulator: the Dockerfile's RUN steps all run on the
# builder's own platform, so bakeplan plans linux/arm64 and linux/riscv64
# as "cross-compiled, no emulation".

variable "BASE" {
  default     = "busybox:latest"
  description = "The image the build stage runs in (for the builder's platform only)."
}

variable "REGISTRY" {
  default = "registry.example.com/team"
}

registry "team" {
  host = split("/", var.REGISTRY)[0]
}

target "cross" {
  args      = { BASE = var.BASE }
  platforms = ["linux/amd64", "linux/arm64", "linux/riscv64"]
  tags      = ["${var.REGISTRY}/cross:latest"]
  push      = true
}
