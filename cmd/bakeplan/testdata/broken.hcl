variable "VERSION" {
  default = "latest"
  validation {
    condition     = can(regex("^v[0-9]+", var.VERSION))
    error_message = "VERSION must start with v and a number."
  }
}

target "app" {
  platfroms = ["linux/amd64"]
  tags      = ["registry.example.com/App:${var.VERSION}"]
}
