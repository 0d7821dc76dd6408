package model

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a formula token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokName
	tokNum
	tokTilde
	tokPlus
	tokMinus
	tokStar
	tokSlash
	tokColon
	tokCaret
	tokLParen
	tokRParen
	tokBar
	tokDBar
	tokDot
	tokComma
	tokEq
)

// formulaToken is one lexical token of a formula.
type formulaToken struct {
	kind tokKind
	// text is the name (unquoted) or the number as written.
	text string
	// num is the value of a number token.
	num float64
	// pos is the 1-based character column where the token starts.
	pos int
	// space is true when white space precedes the token.
	space bool
	// quoted is true for a name written in backquotes.
	quoted bool
}

// describe names the token for an error message.
func (t formulaToken) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of formula"
	case tokName:
		return fmt.Sprintf("name %q", t.text)
	case tokNum:
		return "number " + t.text
	}
	return "'" + punctText[t.kind] + "'"
}

// punctText is the source text of each punctuation token kind.
var punctText = [...]string{
	tokTilde: "~", tokPlus: "+", tokMinus: "-", tokStar: "*", tokSlash: "/",
	tokColon: ":", tokCaret: "^", tokLParen: "(", tokRParen: ")",
	tokBar: "|", tokDBar: "||", tokDot: ".", tokComma: ",", tokEq: "=",
}

// rReserved are R's reserved words and constants, which cannot be used as
// bare column names in a formula.
func rReserved(name string) bool {
	switch name {
	case "if", "else", "repeat", "while", "function", "for", "next", "break",
		"in", "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_",
		"NA_real_", "NA_character_", "NA_complex_":
		return true
	}
	return false
}

// isNameStart reports whether r may start an R name (a dot also may, when
// no digit follows it; the caller checks that).
func isNameStart(r rune) bool {
	return unicode.IsLetter(r) || r == '.'
}

// isNameChar reports whether r may continue an R name.
func isNameChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_'
}

// scanName returns the length in bytes and characters of the syntactic R
// name at the start of s, or 0, 0 when s does not start with one.
func scanName(s string) (nbytes, nchars int) {
	r, w := utf8.DecodeRuneInString(s)
	if !isNameStart(r) {
		return 0, 0
	}
	if r == '.' && len(s) > 1 && s[1] >= '0' && s[1] <= '9' {
		return 0, 0
	}
	for nbytes < len(s) {
		r, w = utf8.DecodeRuneInString(s[nbytes:])
		if r == utf8.RuneError && w <= 1 || !isNameChar(r) {
			break
		}
		nbytes += w
		nchars++
	}
	return nbytes, nchars
}

// isSyntacticName reports whether name can be written in a formula without
// backquotes and read back as the same name.
func isSyntacticName(name string) bool {
	n, _ := scanName(name)
	return n > 0 && n == len(name) && name != "." && !rReserved(name)
}

// quoteName renders a column name for a formula, backquoting it when it is
// not a syntactic R name.
func quoteName(name string) string {
	if isSyntacticName(name) {
		return name
	}
	return "`" + name + "`"
}

// lexFormula splits text into tokens, ending with a tokEOF token whose
// position is one past the last character.
func lexFormula(text string) ([]formulaToken, error) {
	var toks []formulaToken
	col := 1 // column of text[i]
	space := false
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		start := col
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v':
			i += w
			col++
			space = true
			continue
		case r == '`':
			j := i + 1
			n := 0
			for j < len(text) && text[j] != '`' {
				_, w2 := utf8.DecodeRuneInString(text[j:])
				j += w2
				n++
			}
			if j >= len(text) {
				return nil, &FormulaError{Text: text, Pos: start, Msg: "unclosed backquote", Hint: "a quoted name ends with a second `"}
			}
			if n == 0 {
				return nil, &FormulaError{Text: text, Pos: start, Msg: "empty backquoted name"}
			}
			toks = append(toks, formulaToken{kind: tokName, text: text[i+1 : j], pos: start, space: space, quoted: true})
			col += n + 2
			i = j + 1
		case r >= '0' && r <= '9' || r == '.' && i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9':
			j := i
			for j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			if j < len(text) && text[j] == '.' {
				j++
				for j < len(text) && text[j] >= '0' && text[j] <= '9' {
					j++
				}
			}
			if j < len(text) && (text[j] == 'e' || text[j] == 'E') {
				k := j + 1
				if k < len(text) && (text[k] == '+' || text[k] == '-') {
					k++
				}
				if k < len(text) && text[k] >= '0' && text[k] <= '9' {
					for k < len(text) && text[k] >= '0' && text[k] <= '9' {
						k++
					}
					j = k
				}
			}
			v, err := strconv.ParseFloat(text[i:j], 64)
			if err != nil {
				// Only a value out of range can fail here; any such
				// number is rejected later as not 0 or 1.
				v = 2
			}
			toks = append(toks, formulaToken{kind: tokNum, text: text[i:j], num: v, pos: start, space: space})
			col += j - i
			i = j
		case r == '.' && (i+1 >= len(text) || !startsName(text[i+1:])):
			toks = append(toks, formulaToken{kind: tokDot, pos: start, space: space})
			i++
			col++
		case isNameStart(r):
			nb, nc := scanName(text[i:])
			toks = append(toks, formulaToken{kind: tokName, text: text[i : i+nb], pos: start, space: space})
			i += nb
			col += nc
		default:
			kind := tokEOF
			width := 1
			switch r {
			case '~':
				kind = tokTilde
			case '+':
				kind = tokPlus
			case '-':
				kind = tokMinus
			case '*':
				kind = tokStar
			case '/':
				kind = tokSlash
			case ':':
				kind = tokColon
			case '^':
				kind = tokCaret
			case ',':
				kind = tokComma
			case '=':
				kind = tokEq
			case '(':
				kind = tokLParen
			case ')':
				kind = tokRParen
			case '|':
				kind = tokBar
				if i+1 < len(text) && text[i+1] == '|' {
					kind = tokDBar
					width = 2
				}
			}
			if kind == tokEOF {
				return nil, badChar(text, start, r, w)
			}
			toks = append(toks, formulaToken{kind: kind, pos: start, space: space})
			i += width
			col += width
		}
		space = false
	}
	toks = append(toks, formulaToken{kind: tokEOF, pos: col, space: space})
	return toks, nil
}

// startsName reports whether s continues a name that began with a dot.
func startsName(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isNameChar(r)
}

// badChar is the error for a character that cannot appear in a formula.
func badChar(text string, pos int, r rune, w int) error {
	e := &FormulaError{Text: text, Pos: pos}
	switch {
	case r == utf8.RuneError && w <= 1:
		e.Msg = "invalid UTF-8 byte"
	case r == '"' || r == '\'':
		e.Msg = "unexpected quote " + string(r)
		e.Hint = "write a column name with spaces in backquotes, as in `my var`"
	case r == '%':
		e.Msg = "unexpected '%'"
		e.Hint = "operators such as %in% are not supported"
	case r == '_':
		e.Msg = "unexpected '_'"
		e.Hint = "a name must start with a letter or a dot; backquote other names, as in `_x`"
	case unicode.IsPrint(r):
		e.Msg = fmt.Sprintf("unexpected character %q", r)
	default:
		e.Msg = fmt.Sprintf("unexpected character %U", r)
	}
	return e
}
