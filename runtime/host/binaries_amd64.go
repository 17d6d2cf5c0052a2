package host

import "github.com/moby/buildkit/util/archutil"

// testBinaries are BuildKit's tiny static programs, one per foreign
// architecture, that exit 0 when they run.
var testBinaries = map[string]string{
	"386": archutil.Binary386, "arm64": archutil.Binaryarm64, "arm": archutil.Binaryarm,
	"riscv64": archutil.Binaryriscv64, "ppc64le": archutil.Binaryppc64le, "s390x": archutil.Binarys390x,
	"mips64le": archutil.Binarymips64le, "mips64": archutil.Binarymips64, "loong64": archutil.Binaryloong64,
}
