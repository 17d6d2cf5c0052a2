# Laid on docker-bake.hcl by bake's default file list: a CI override of a
# variable and of one target's args, which merge key by key.
QEMU_VERSION = "v9.2.2"

target "mainline" {
  args = {
    QEMU_PRESERVE_ARGV0 = "0"
    CI                  = "1"
  }
  cache-to = ["type=registry,ref=${REPO}:cache,mode=max"]
}
