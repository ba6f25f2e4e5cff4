package cap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// Encode writes a as a CAP 1.2 document (UTF-8, namespace
// urn:oasis:names:tc:emergency:cap:1.2), refusing an alert that is not
// valid so that only valid CAP leaves the IOC.
func Encode(w io.Writer, a *Alert) error {
	b, err := Marshal(a)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal returns a's CAP 1.2 document.
func Marshal(a *Alert) ([]byte, error) {
	c := *a
	c.XMLName = xml.Name{} // the namespace is written below
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	start := xml.StartElement{Name: xml.Name{Local: "alert"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: Namespace}}}
	if err := enc.EncodeElement(&c, start); err != nil {
		return nil, fmt.Errorf("cap: encoding alert %s: %w", a.Identifier, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("cap: encoding alert %s: %w", a.Identifier, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
