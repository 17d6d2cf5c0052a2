package plan

// Observations are what an online plan saw on the host and in the
// registries, kept apart from the compiled plan: the compiled plan says
// what the spec asks for, the observations what is there now. With merges
// them into a copy of the plan, to show, save or apply; the compiled plan
// itself never changes.
type Observations struct {
	// Steps holds, by step ID, what was seen for that step.
	Steps map[string]*Observed
}

// Observed is what was seen for one step.
type Observed struct {
	// Host is a host step's probe, Change what apply would change, and
	// Action the step's action once probed (noop when the host matches).
	Host   map[string]string
	Change *Change
	Action Action
	// Images are, for a build, what the registries said of its images, in
	// the build's order; Status is whether the build must run.
	Images []ImageSeen
	Status *BuildStatus
	// Node and Placement are where a pool's build runs once the nodes that
	// are down are known, and why ("" when as compiled).
	Node, Placement string
}

// ImageSeen is what the registries said of one image a build pulls.
type ImageSeen struct {
	Ref string
	// Registry, Resolved, Unresolved and OnBuild are as on Image.
	Registry   string
	Resolved   *Resolved
	Unresolved string
	OnBuild    bool
}

// ObservationsOf reads the observations a plan carries: a saved plan's,
// or those a probe recorded in a working copy. Nil when it carries none.
func ObservationsOf(p *Plan) *Observations {
	o := &Observations{Steps: map[string]*Observed{}}
	for _, st := range p.Steps {
		var seen Observed
		observed := st.Observed != nil || st.Change != nil
		seen.Host, seen.Change = st.Observed, st.Change
		if observed {
			seen.Action = st.Action
		}
		if b := st.Build; b != nil {
			seen.Status = b.Status
			observed = observed || b.Status != nil
			for _, img := range b.Images {
				s := ImageSeen{Ref: img.Ref, Registry: img.Registry, Resolved: img.Resolved, Unresolved: img.Unresolved, OnBuild: img.OnBuild}
				if s != (ImageSeen{Ref: img.Ref}) {
					observed = true
				}
				seen.Images = append(seen.Images, s)
			}
		}
		if observed {
			o.Steps[st.ID] = &seen
		}
	}
	if len(o.Steps) == 0 {
		return nil
	}
	return o
}

// With is a copy of p with o merged into it (o may be nil: a copy a probe
// can write its findings into). Steps, builds and their images are copied;
// what neither merging nor probing changes is shared. When o resolved an
// image nothing pins, every input digest is computed again: the build
// pulls exactly what was resolved.
func (p *Plan) With(o *Observations) *Plan {
	c := *p
	c.index = nil
	c.Steps = make([]*Step, len(p.Steps))
	resolved := false
	for i, st := range p.Steps {
		s := *st
		if st.Build != nil {
			b := *st.Build
			b.Images = make([]*Image, len(st.Build.Images))
			for j, img := range st.Build.Images {
				cp := *img
				b.Images[j] = &cp
			}
			s.Build = &b
		}
		if o != nil {
			if seen := o.Steps[st.ID]; seen != nil {
				resolved = seen.mergeInto(&s) || resolved
			}
		}
		c.Steps[i] = &s
	}
	if resolved {
		c.DigestInputs()
	}
	c.Index()
	return &c
}

// mergeInto writes what was seen into a step (a copy); it reports whether
// an image nothing pinned was resolved.
func (seen *Observed) mergeInto(s *Step) bool {
	if seen.Host != nil {
		s.Observed = seen.Host
	}
	if seen.Change != nil {
		s.Change = seen.Change
	}
	if seen.Action != "" {
		s.Action = seen.Action
	}
	if s.Build != nil && seen.Node != "" {
		s.Build.Node, s.Build.Placement = seen.Node, seen.Placement
	}
	resolved := false
	if b := s.Build; b != nil {
		if seen.Status != nil {
			b.Status = seen.Status
		}
		for j, img := range b.Images {
			if j >= len(seen.Images) || seen.Images[j].Ref != img.Ref {
				continue // observed for another shape of the build
			}
			si := seen.Images[j]
			img.Registry, img.Unresolved, img.OnBuild = si.Registry, si.Unresolved, si.OnBuild
			if si.Resolved != nil && img.Digest == "" {
				img.Resolved = si.Resolved
				resolved = true
			}
		}
	}
	return resolved
}

// Placed records that a probe placed a pool's build on another node than
// compiled, and why.
func (o *Observations) Placed(stepID, node, why string) {
	if o.Steps == nil {
		o.Steps = map[string]*Observed{}
	}
	seen := o.Steps[stepID]
	if seen == nil {
		seen = &Observed{}
		o.Steps[stepID] = seen
	}
	seen.Node, seen.Placement = node, why
}
