package embedded

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// maxMIMEDepth limits how deeply multipart entities may nest. Real mail
// nests two or three levels (mixed > alternative > related).
const maxMIMEDepth = 10

// wordDecoder decodes RFC 2047 encoded words in any charset known to the
// WHATWG encoding list, not only the UTF-8, US-ASCII and ISO-8859-1 that
// mime.WordDecoder handles by itself.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// parsedMail is the part of a Mail that comes from the message content.
type parsedMail struct {
	from    string
	subject string
	date    time.Time
	text    string
	html    string
	header  mail.Header
}

// parseMail decodes the header fields and the text and HTML bodies of an
// RFC 5322 message. receivedAt is used as the date when the Date header is
// missing or invalid. It returns what it could decode together with an error
// describing the first part it could not decode.
func parseMail(raw []byte, receivedAt time.Time) (parsedMail, error) {
	parsed := parsedMail{date: receivedAt}

	message, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return parsed, fmt.Errorf("read message header: %w", err)
	}
	parsed.header = message.Header

	var errs []error
	parsed.from, err = decodeAddressList(message.Header.Get("From"))
	if err != nil {
		errs = append(errs, fmt.Errorf("decode From header: %w", err))
	}
	parsed.subject, err = wordDecoder.DecodeHeader(message.Header.Get("Subject"))
	if err != nil {
		parsed.subject = message.Header.Get("Subject")
		errs = append(errs, fmt.Errorf("decode Subject header: %w", err))
	}
	if message.Header.Get("Date") != "" {
		date, err := message.Header.Date()
		if err != nil {
			errs = append(errs, fmt.Errorf("parse Date header: %w", err))
		} else {
			parsed.date = date
		}
	}

	walker := &bodyWalker{}
	if err := walker.walk(textproto.MIMEHeader(message.Header), message.Body, 0); err != nil {
		errs = append(errs, err)
	}
	parsed.text = walker.text
	parsed.html = walker.html
	return parsed, errors.Join(errs...)
}

// decodeAddressList formats each address of an address list header as
// "Display Name <local@domain>", or the bare address when it has no display
// name, with encoded words decoded, joined by ", ".
func decodeAddressList(value string) (string, error) {
	if value == "" {
		return "", nil
	}
	parser := mail.AddressParser{WordDecoder: wordDecoder}
	addresses, err := parser.ParseList(value)
	if err != nil {
		decoded, decodeErr := wordDecoder.DecodeHeader(value)
		if decodeErr != nil {
			return value, err
		}
		return decoded, err
	}

	formatted := make([]string, len(addresses))
	for i, address := range addresses {
		if address.Name == "" {
			formatted[i] = address.Address
		} else {
			formatted[i] = address.Name + " <" + address.Address + ">"
		}
	}
	return strings.Join(formatted, ", "), nil
}

// bodyWalker collects the first inline text/plain and text/html parts of a
// MIME entity tree.
type bodyWalker struct {
	text, html         string
	haveText, haveHTML bool
}

func (w *bodyWalker) walk(header textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > maxMIMEDepth {
		return fmt.Errorf("mime entities nested more than %d levels", maxMIMEDepth)
	}

	contentType := header.Get("Content-Type")
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("parse Content-Type %q: %w", contentType, err)
	}

	if strings.HasPrefix(mediaType, "multipart/") {
		return w.walkMultipart(body, params["boundary"], depth)
	}

	isText := mediaType == "text/plain" && !w.haveText
	isHTML := mediaType == "text/html" && !w.haveHTML
	if (!isText && !isHTML) || isAttachment(header) {
		return nil
	}

	decoded, err := decodeTransfer(header.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mediaType, err)
	}
	content, err := decodeCharset(params["charset"], decoded)
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mediaType, err)
	}
	// SMTP carries CRLF line ends; Go strings conventionally use LF.
	content = strings.ReplaceAll(content, "\r\n", "\n")
	if isText {
		w.text, w.haveText = content, true
	} else {
		w.html, w.haveHTML = content, true
	}
	return nil
}

func (w *bodyWalker) walkMultipart(body io.Reader, boundary string, depth int) error {
	if boundary == "" {
		return errors.New("multipart entity without boundary parameter")
	}

	reader := multipart.NewReader(body, boundary)
	for {
		// NextRawPart keeps Content-Transfer-Encoding for decodeTransfer,
		// where NextPart would decode quoted-printable by itself and hide it.
		part, err := reader.NextRawPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read multipart entity: %w", err)
		}
		err = w.walk(part.Header, part, depth+1)
		_ = part.Close()
		if err != nil {
			return err
		}
	}
}

func isAttachment(header textproto.MIMEHeader) bool {
	disposition, _, err := mime.ParseMediaType(header.Get("Content-Disposition"))
	return err == nil && disposition == "attachment"
}

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045).
func decodeTransfer(encoding string, body io.Reader) ([]byte, error) {
	var reader io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
		reader = body
	case "quoted-printable":
		reader = quotedprintable.NewReader(body)
	case "base64":
		// The base64 decoder skips the CR and LF of wrapped lines.
		reader = base64.NewDecoder(base64.StdEncoding, body)
	default:
		return nil, fmt.Errorf("unsupported Content-Transfer-Encoding %q", encoding)
	}

	content, err := io.ReadAll(reader)
	if err != nil {
		return nil, fmt.Errorf("content transfer encoding %q: %w", encoding, err)
	}
	return content, nil
}

// decodeCharset converts content in the given charset to a UTF-8 string.
// Content declared as UTF-8 or US-ASCII must be valid UTF-8.
func decodeCharset(charset string, content []byte) (string, error) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if !utf8.Valid(content) {
			return string(content), fmt.Errorf("content declared as charset %q is not valid UTF-8", charset)
		}
		return string(content), nil
	}

	reader, err := charsetReader(charset, bytes.NewReader(content))
	if err != nil {
		return string(content), err
	}
	decoded, err := io.ReadAll(reader)
	if err != nil {
		return string(content), fmt.Errorf("decode charset %q: %w", charset, err)
	}
	return string(decoded), nil
}

// charsetReader returns a reader that converts input from charset to UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	encoding, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	return encoding.NewDecoder().Reader(input), nil
}
