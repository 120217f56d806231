//! Masking personal data in text the public reads: long digit runs (mobile and landline
//! numbers, identity-card numbers, bank cards) keep their first three and last two digits;
//! e-mail addresses keep the first character of the local part and the domain.

/// `text` with personal data masked.
pub fn redact(text: &str) -> String {
    let masked_digits = mask_digit_runs(text);
    masked_digits
        .split_inclusive(char::is_whitespace)
        .map(mask_email)
        .collect()
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Runs of 7 or more digits (a separator `-` or a space inside the run is kept, an `X`
/// at the end of an 18-character identity number is part of it).
fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = 0;
        let mut end = i;
        while end < chars.len() {
            let c = chars[end];
            if is_digit(c) {
                digits += 1;
                end += 1;
            } else if (c == '-' || c == ' ') && end + 1 < chars.len() && is_digit(chars[end + 1]) {
                end += 1;
            } else if (c == 'X' || c == 'x') && digits == 17 {
                digits += 1;
                end += 1;
                break;
            } else {
                break;
            }
        }
        let run = &chars[start..end];
        if digits >= 7 {
            let mut seen = 0;
            for &c in run {
                let counted = is_digit(c) || c == 'X' || c == 'x';
                if counted {
                    seen += 1;
                }
                if counted && seen > 3 && seen <= digits - 2 {
                    out.push('*');
                } else {
                    out.push(c);
                }
            }
        } else {
            out.extend(run);
        }
        i = end;
    }
    out
}

fn mask_email(word: &str) -> String {
    let Some(at) = word.find('@') else {
        return word.to_string();
    };
    let (local, domain) = word.split_at(at);
    if local.is_empty() || !domain[1..].contains('.') {
        return word.to_string();
    }
    let first = local.chars().next().unwrap_or('*');
    format!("{first}***{domain}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn phones_and_ids_are_masked() {
        assert_eq!(redact("请联系13812345678谢谢"), "请联系138******78谢谢");
        assert_eq!(redact("电话 0635-8123456"), "电话 063*-*****56");
        assert_eq!(
            redact("身份证37150219900101123X"),
            "身份证371*************3X"
        );
        assert_eq!(redact("全角１３８１２３４５６７８"), "全角１３８******７８");
    }

    #[test]
    fn short_numbers_and_plain_text_are_kept() {
        assert_eq!(redact("3号楼2单元，周六上午9点"), "3号楼2单元，周六上午9点");
        assert_eq!(redact("回收了 120 公斤纸板"), "回收了 120 公斤纸板");
        assert_eq!(redact(""), "");
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(
            redact("写信到 zhang.san@example.com 好吗"),
            "写信到 z***@example.com 好吗"
        );
        assert_eq!(redact("@ 不是邮箱"), "@ 不是邮箱");
    }
}
