/// Text made safe for the formats nstopo writes by hand (the JSON reports, the HTML report,
/// the DOT labels, containerlab's YAML): one place for each rule.
public enum Escaping {
  /// A JSON string literal (also a YAML double-quoted scalar). `forScript`: `<`, `>` and `&`
  /// escaped too, and U+2028/2029, for JSON inside an HTML script element.
  public static func jsonString(_ s: String, forScript: Bool = false) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "<" where forScript: out += "\\u003c"
      case ">" where forScript: out += "\\u003e"
      case "&" where forScript: out += "\\u0026"
      case "\u{2028}" where forScript: out += "\\u2028"
      case "\u{2029}" where forScript: out += "\\u2029"
      default:
        if c.value < 0x20 {
          let h = String(c.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          out.unicodeScalars.append(c)
        }
      }
    }
    return out + "\""
  }

  /// A YAML double-quoted scalar: a JSON string, with what YAML does not print also escaped
  /// (DEL, the C1 controls, the line and paragraph separators, the byte-order mark): a YAML
  /// reader rejects them raw.
  public static func yamlString(_ s: String) -> String {
    var out = ""
    for c in jsonString(s).unicodeScalars {
      if (0x7F...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029 || c.value == 0xFEFF {
        let h = String(c.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
      } else {
        out.unicodeScalars.append(c)
      }
    }
    return out
  }

  /// Text for one line of a comment (a `.topo`'s `#`, a YAML file's): every control character
  /// and line separator as its `\u` escape, so that no text can end the comment and start a
  /// line of its own.
  public static func commentText(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      if c.value < 0x20 || (0x7F...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029 {
        let h = String(c.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
      } else {
        out.unicodeScalars.append(c)
      }
    }
    return out
  }

  /// Text for HTML content or a double-quoted attribute (`'` too with `apostrophe`).
  public static func html(_ s: String, apostrophe: Bool = false) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'" where apostrophe: out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }
}
