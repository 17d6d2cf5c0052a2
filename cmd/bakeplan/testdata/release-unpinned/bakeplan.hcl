release {
  source_date_epoch = 1700000000
}

target "app" {
  platforms = ["linux/amd64", "linux/arm64"]
  contexts  = { tools = "docker-image://busybox:1.36" }
  tags      = ["registry.example.com/team/app:v1"]
  push      = true
}

target "docs" {
  dockerfile_inline = "FROM nginx:1.27\nCOPY . /usr/share/nginx/html\n"
  release           = false
}
