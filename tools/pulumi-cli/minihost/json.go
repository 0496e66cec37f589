package minihost

import "encoding/json"

func jsonString(v any) (string, error) {
	data, err := json.Marshal(v)
	return string(data), err
}
