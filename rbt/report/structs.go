package report

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// FromStructs lays out a slice of structs as a table, one row per element:
// the columns are the fields named by their `csv` tag (or field name), all of
// them or only those listed in columns, in that order. Floats print with 4
// significant digits, NaN as "–" (no value). It panics if rows is not a slice
// of structs or a column does not exist: that is a programming error.
func FromStructs(rows any, columns ...string) Table {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("report.FromStructs: want a slice of structs, got %T", rows))
	}
	typ := v.Type().Elem()
	name := func(f reflect.StructField) string {
		if tag, _, _ := strings.Cut(f.Tag.Get("csv"), ","); tag != "" {
			return tag
		}
		return f.Name
	}
	var fields []int
	if len(columns) == 0 {
		for i := range typ.NumField() {
			if typ.Field(i).IsExported() {
				fields = append(fields, i)
			}
		}
	} else {
		for _, c := range columns {
			found := -1
			for i := range typ.NumField() {
				if typ.Field(i).IsExported() && name(typ.Field(i)) == c {
					found = i
				}
			}
			if found < 0 {
				panic(fmt.Sprintf("report.FromStructs: %s has no column %q", typ, c))
			}
			fields = append(fields, found)
		}
	}
	var t Table
	for _, i := range fields {
		t.Header = append(t.Header, name(typ.Field(i)))
	}
	for r := range v.Len() {
		var row []string
		for _, i := range fields {
			row = append(row, formatField(v.Index(r).Field(i)))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func formatField(f reflect.Value) string {
	switch f.Kind() {
	case reflect.Float32, reflect.Float64:
		x := f.Float()
		if math.IsNaN(x) {
			return "–"
		}
		return FormatValue(x)
	}
	return fmt.Sprint(f.Interface())
}
