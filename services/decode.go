package services

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads, decodes and validates the configuration file at path. Any
// failure, including an unreadable or empty file, is a *Problems. An empty
// file is refused rather than read as all defaults with no services: it is
// more likely a file caught in the middle of a save, and the start-up,
// -check and a reload must agree.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Problems{{File: path, Message: "cannot read the file: " + err.Error()}}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Problems{{File: path, Message: emptyFileMessage}}
	}
	return Parse(path, data)
}

// emptyFileMessage is the problem Load reports for an empty file.
const emptyFileMessage = "the file is empty (a save in progress?); a configuration needs at least one key"

// Parse decodes data over the defaults and validates the result. filename
// only labels the problems. On failure it returns a nil Config and a
// *Problems listing everything wrong, in file order.
func Parse(filename string, data []byte) (*Config, error) {
	root, err := parseYAML(data)
	if err != nil {
		p := syntaxProblem(data, err)
		p.File = filename
		return nil, &Problems{p}
	}
	c := Default()
	d := &decoder{lines: map[string]int{}, failed: map[string]bool{}, budget: maxNodes}
	if root != nil {
		d.decode("", root, reflect.ValueOf(c).Elem())
	}
	if _, set := d.lines["redis.url"]; c.Redis.Cluster != nil && !set {
		c.Redis.URL = "" // the default URL is for a single Redis
	}
	v := &validator{failed: d.failed}
	c.validate(v)
	ps := append(d.problems, v.problems...)
	if len(ps) == 0 {
		return c, nil
	}
	for i := range ps {
		ps[i].File = filename
		if ps[i].Line == 0 {
			ps[i].Line = d.lineOf(ps[i].Path)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
	out := Problems(ps)
	return nil, &out
}

// maxNodes bounds the work of decoding one document, so that aliases and
// merge keys cannot make a small file expand into a huge one.
const maxNodes = 200_000

// maxDepth bounds the nesting of merge keys.
const maxDepth = 32

// parseYAML returns the root node of the only document in data, or nil for
// an empty document.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("line %d: only one YAML document is allowed", extra.Line)
	}
	root = &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		root = doc.Content[0]
	}
	return root, nil
}

// decoder walks a YAML node tree into a Config, checking every key against
// the yaml tags of the target struct and every value against its Go type.
type decoder struct {
	problems []Problem
	lines    map[string]int  // key path -> line of the key
	failed   map[string]bool // key paths whose value could not be decoded
	budget   int             // nodes left before the document is too large
}

// fail records a problem with the value at path.
func (d *decoder) fail(path string, line int, msg string) {
	if secretPath(path) {
		msg, _, _ = strings.Cut(msg, ", got ")
		msg += " (the value is not shown: it is a secret)"
	}
	d.problems = append(d.problems, Problem{Line: line, Path: path, Message: msg})
	d.failed[path] = true
}

// lineOf returns the line of path, or of its closest ancestor that has one.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// spend takes one node off the budget and reports whether any was left.
func (d *decoder) spend(line int) bool {
	d.budget--
	if d.budget == -1 {
		d.problems = append(d.problems, Problem{Line: line,
			Message: fmt.Sprintf("the document expands to more than %d nodes (aliases or merge keys?)", maxNodes)})
	}
	return d.budget >= 0
}

var durationType = reflect.TypeFor[Duration]()

// decode stores n into v, which is addressable.
func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value) {
	n = resolveAlias(n)
	if n == nil || !d.spend(n.Line) {
		return
	}
	if isNull(n) {
		// null keeps a scalar's default and empties a list or an optional
		// section.
		switch v.Kind() {
		case reflect.Slice, reflect.Pointer:
			v.SetZero()
		}
		return
	}
	if v.Type() == durationType {
		dur, err := parseDuration(n)
		if err != nil {
			d.fail(path, n.Line, err.Error())
			return
		}
		v.Set(reflect.ValueOf(dur))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n.Line, "must be a string, got "+describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(path, n.Line, "must be true or false, got "+describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		var i int64
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.fail(path, n.Line, "must be an integer, got "+describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		var f float64
		tag := n.ShortTag()
		if tag != "!!int" && tag != "!!float" || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(path, n.Line, "must be a number, got "+describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		d.strings(path, n, v)
	case reflect.Struct:
		d.structure(path, n, v)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		switch p.Type() {
		case reflect.TypeFor[*Redis]():
			p.Elem().Set(reflect.ValueOf(defaultRedis("")))
		case reflect.TypeFor[*History]():
			p.Elem().Set(reflect.ValueOf(defaultHistory()))
		}
		d.decode(path, n, p.Elem())
		if !d.failed[path] {
			v.Set(p)
		}
	case reflect.Map:
		d.services(path, n, v)
	default:
		panic(fmt.Sprintf("services: no decoder for %s at %s", v.Type(), path))
	}
}

// strings decodes a list of strings.
func (d *decoder) strings(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n.Line, "must be a list of strings, got "+describe(n))
		return
	}
	list := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		item = resolveAlias(item)
		ip := path + "[" + strconv.Itoa(i) + "]"
		if item == nil || !d.spend(n.Line) {
			return
		}
		d.lines[ip] = item.Line
		if item.Kind != yaml.ScalarNode || isNull(item) {
			d.fail(ip, item.Line, "must be a string, got "+describe(item))
			continue
		}
		list = append(list, item.Value)
	}
	v.Set(reflect.ValueOf(list))
}

// structure decodes a mapping into a struct, field by yaml tag.
func (d *decoder) structure(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.fail(path, n.Line, "the document must be a mapping of keys, got "+describe(n))
		} else {
			d.fail(path, n.Line, "must be a mapping, got "+describe(n))
		}
		return
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		fields[name] = i
		names = append(names, name)
	}
	for _, p := range d.pairs(path, n, 0) {
		kp := joinPath(path, p.key)
		d.lines[kp] = p.line
		i, ok := fields[p.key]
		if !ok {
			d.fail(kp, p.line, unknownKey(p.key, names))
			continue
		}
		d.decode(kp, p.value, v.Field(i))
	}
}

// services decodes the services mapping; a null service has all defaults.
func (d *decoder) services(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "must be a mapping of service names, got "+describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, p := range d.pairs(path, n, 0) {
		kp := joinPath(path, p.key)
		d.lines[kp] = p.line
		s := &Service{}
		d.decode(kp, p.value, reflect.ValueOf(s).Elem())
		v.SetMapIndex(reflect.ValueOf(p.key), reflect.ValueOf(s))
	}
}
