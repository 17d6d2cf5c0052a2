target "app" {
  target   = "buid"
  args     = { VERSION = "1" }
}
target "lint" {
  dockerfile = "lint.Dockerfile"
  args       = { VERSION = "1" }
  contexts   = { unused = "." }
}
