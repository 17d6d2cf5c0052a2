target "docs" {
  labels = { "org.example.ci" = "true" }
  output = ["type=local,dest=out/ci-docs"]
}
