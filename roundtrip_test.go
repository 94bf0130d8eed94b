package doubletick_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill sets every exported field of v, at every depth, to a value that is
// not its zero, so that a field a JSON round trip drops shows as a
// difference.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // raw JSON
			v.SetBytes([]byte(`{"k":"v"}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x-" + strings.ToLower(v.Type().Name()))
	case reflect.Int, reflect.Int64:
		v.SetInt(3)
	case reflect.Float64:
		v.SetFloat(19.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Interface:
		v.Set(reflect.ValueOf("x"))
	}
}

// TestResultsSurviveAJSONRoundTrip marshals every result type a service
// method returns, with every field set, and reads it back: a field that is
// lost (json:"-", a custom decoder that forgets it) fails. The CLI's --json
// prints results this way.
func TestResultsSurviveAJSONRoundTrip(t *testing.T) {
	seen := map[reflect.Type]bool{}
	for _, svc := range services(newTestClient(t, respond(200, `{}`))) {
		for i := range svc.NumMethod() {
			m := svc.Type().Method(i).Type
			for j := range m.NumOut() {
				typ := m.Out(j)
				for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
					typ = typ.Elem()
				}
				if typ.Kind() != reflect.Struct || typ.PkgPath() != "github.com/doubletick-go/doubletick" || typ.Name() == "Response" || seen[typ] {
					continue
				}
				seen[typ] = true
				t.Run(typ.Name(), func(t *testing.T) {
					in := reflect.New(typ)
					fill(in.Elem(), 0)
					b, err := json.Marshal(in.Interface())
					require.NoError(t, err)
					out := reflect.New(typ)
					require.NoError(t, json.Unmarshal(b, out.Interface()), string(b))
					assert.Equal(t, in.Interface(), out.Interface(), "through %s", b)
				})
			}
		}
	}
	assert.GreaterOrEqual(t, len(seen), 10)
}
