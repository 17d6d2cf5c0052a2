target "app" {
  target   = "buid"
  args     = { VERSION = "1" }
}
target "lint" {
  dockerfile = "lint.Dockerfile"
  args       = { VERSION = "1" }
  contexts   = { unused = "." }
}
target "badfrom" {
  dockerfile = "badfrom.Dockerfile"
}
target "unparsable" {
  dockerfile_inline = "FROM scratch\nBOGUS x\n"
}
