package solve

// IsDockerfileStep exposes isDockerfileStep to the tests.
var IsDockerfileStep = isDockerfileStep
