"""Refusal and deflection phrasing per language (ISO 639-1), as regular expressions.

Matched on lower-cased text whose whitespace is collapsed to single spaces and
whose typographic apostrophes are plain ('), so every pattern is written in
lower case. Each phrase carries trigger words, one of which any match must
contain as a whole word (in Japanese and Chinese, which do not separate words,
as a substring): the pattern only runs when a trigger occurs in the text,
which keeps the check cheap. Each phrase names a negation together with what is refused,
so that "I can help you with that" or "I can't wait" do not match.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Phrase:
    triggers: tuple[str, ...]  # lower-case words (substrings in ja, zh); a match holds one
    pattern: str  # lower-case regular expression


_EN_NEG = ("can't", "cannot", "won't", "unable", "not")
_EN_CANNOT = (
    r"(?:can't|cannot|can not|won't|will not|won't be able to|will not be able to|am unable to"
    r"|'m unable to|am not able to|'m not able to|am not allowed to|'m not allowed to"
    r"|am not permitted to|'m not permitted to)"
)
_EN_WHAT = (
    r"(?:help(?! but)|assist|provide|comply|fulfil|answer|share|give|offer|create|generate"
    r"|write|produce|engage|discuss|support|do that|do this|continue|participate|process"
    r"|complete|access|disclose|reveal)"
)
_ES_WHAT = (
    r"(?:ayudar|ayudarte|ayudarle|ayudarlo|ayudarla|asistir|asistirte|proporcionar"
    r"|proporcionarte|proporcionarle|facilitar|responder|contestar|hacer eso|hacerlo|cumplir"
    r"|dar|darte|darle|compartir|acceder|generar|crear|escribir|brindar|brindarte|ofrecer"
    r"|ofrecerte|participar|continuar|revelar)"
)
_PT_WHAT = (
    r"(?:ajudar|ajudá-l[oa]|auxiliar|fornecer|responder|fazer isso|fazer isto|atender"
    r"|compartilhar|partilhar|dar|acessar|aceder|gerar|criar|escrever|oferecer|participar"
    r"|continuar|revelar|cumprir|prestar)"
)
_IT_WHAT = (
    r"(?:aiutarti|aiutarla|aiutarvi|aiutare|assisterti|assisterla|fornire|fornirti|fornirle"
    r"|rispondere|farlo|fare questo|fare ciò|soddisfare|condividere|dare|darti|darle|accedere"
    r"|generare|creare|scrivere|offrire|partecipare|continuare|rivelare)"
)
_FR_WHAT = (
    r"(?:aider|répondre|fournir|donner|partager|accéder|traiter|générer|créer|écrire|rédiger"
    r"|faire (?:cela|ça|ceci)|prendre en charge|assister|communiquer|divulguer|satisfaire"
    r"|participer|continuer|être utile)"
)
_NL_WHAT = (
    r"(?:helpen|assisteren|beantwoorden|geven|leveren|verstrekken|doen|delen|voldoen"
    r"|ondersteunen)"
)
_ZH_NEG = ("无法", "無法", "不能", "没办法", "沒辦法", "没有办法", "沒有辦法", "不可以", "不便")
_ZH_CANNOT = "(?:" + "|".join(_ZH_NEG) + ")"
_ZH_WHAT = (
    r"(?:帮助|幫助|帮忙|幫忙|提供|回答|回覆|回复|协助|協助|满足|滿足|完成|处理|處理|执行|執行"
    r"|生成|创建|創建|分享|透露|参与|參與|支持|解答)"
)
_JA_NEG = ("できません", "できかねます", "いたしかねます", "致しかねます")
_JA_CANNOT = "(?:" + "|".join(_JA_NEG) + ")"

UNSPACED = frozenset({"ja", "zh"})  # languages whose triggers are substrings, not words

PHRASES: dict[str, tuple[Phrase, ...]] = {
    "en": (
        Phrase(
            _EN_NEG,
            r"\b(?:sorry|i'm (?:so |very |really )?(?:sorry|afraid)|i am (?:so |very |really )?"
            rf"(?:sorry|afraid)|unfortunately),? (?:but )?i {_EN_CANNOT}",
        ),
        Phrase(_EN_NEG, rf"\bi {_EN_CANNOT}(?: really| directly| currently)? {_EN_WHAT}\b"),
        Phrase(("decline",), r"\bi (?:must|have to|need to) (?:respectfully |politely )?decline\b"),
        Phrase(
            ("ai", "intelligence", "model", "assistant"),
            r"\bas an (?:ai|artificial intelligence|ai language model|ai assistant"
            r"|language model)\b",
        ),
        Phrase(
            ("ai", "model", "program", "chatbot"),
            r"\bi(?:'m| am) (?:just|only) an? (?:ai|language model|computer program|chatbot)\b",
        ),
        Phrase(
            ("request",), r"\b(?:this|that|your) request (?:violates|goes against|is against)\b"
        ),
        Phrase(
            ("comfortable", "position"),
            r"\bi(?:'m| am) not (?:comfortable|in a position) (?:to|with) ",
        ),
        Phrase(
            ("access", "ability"),
            r"\bi (?:don't|do not) have (?:access to"
            r"|the ability to)\b",
        ),
    ),
    "de": (
        Phrase(
            (
                "ki",
                "intelligenz",
                "ki-sprachmodell",
                "sprachmodell",
                "ki-assistent",
                "ki-assistentin",
            ),
            r"\bals (?:eine? )?(?:ki|künstliche intelligenz|ki-sprachmodell|sprachmodell"
            r"|ki-assistent(?:in)?),? (?:kann|darf|habe|bin) ich\b",
        ),
        Phrase(
            ("leid", "entschuldigung", "sorry", "leider"),
            r"\b(?:es tut mir (?:sehr )?leid|entschuldigung|sorry|leider),? (?:aber )?"
            r"(?:(?:dabei|damit|hierbei|hier|da|das|dies) )?(?:ich kann|kann ich)(?: \S+){0,3}? "
            r"(?:nicht|keine|keinen|kein|keinerlei)\b",
        ),
        Phrase(
            ("nicht",),
            r"\bich kann (?:ihnen |dir |euch )?(?:dabei |damit |hierbei |hierzu |dazu |da )?"
            r"(?:leider )?nicht (?:weiter)?(?:helfen|behilflich|unterstützen|beantworten|antworten"
            r"|erfüllen|nachkommen)",
        ),
        Phrase(
            ("nicht",),
            r"\bich (?:bin|darf) (?:leider )?nicht (?:in der lage|befugt|berechtigt|erlaubt)\b",
        ),
        Phrase(
            ("ablehnen",),
            r"\b(?:ich|wir) (?:muss|müssen) (?:diese anfrage |das )?(?:leider )?ablehnen\b",
        ),
        Phrase(("nicht",), r"\bdas kann ich (?:leider )?nicht (?:tun|machen|beantworten)\b"),
        Phrase(
            ("nicht",),
            r"\b(?:dabei|damit|hierbei|hierzu|dazu|da) kann ich (?:ihnen |dir |euch )?(?:leider )?"
            r"nicht (?:weiter)?(?:helfen|behilflich)",
        ),
        Phrase(
            ("keine", "keinerlei"),
            r"\bich kann (?:ihnen |dir |euch )?(?:leider )?(?:keine|keinerlei) (?:informationen"
            r"|auskunft|auskünfte|hilfe|unterstützung|anleitung|anleitungen|ratschläge|antwort)",
        ),
    ),
    "fr": (
        Phrase(
            ("pas",),
            rf"\bje ne (?:peux|pourrai|pourrais|vais) pas (?:vous |t'|te |y |en )?{_FR_WHAT}",
        ),
        Phrase(
            ("ne",),
            r"\b(?:je suis |je serais )?(?:vraiment |sincèrement )?(?:désolée?|navrée?"
            r"|malheureusement|hélas),? (?:mais )?je ne (?:peux|pourrai|pourrais|suis pas)\b",
        ),
        Phrase(
            ("tant",),
            r"\ben tant qu(?:e |')(?:ia|intelligence artificielle|assistant ia"
            r"|modèle de langage)\b",
        ),
        Phrase(
            ("suis",),
            r"\bje ne suis pas (?:en mesure|autorisée?|habilitée?) (?:de|d'|à)",
        ),
        Phrase(("impossible",), r"\bil m'est impossible de\b"),
        Phrase(
            ("refuser", "décliner"),
            r"\bje (?:dois|me vois contrainte? de) (?:refuser"
            r"|décliner)\b",
        ),
    ),
    "es": (
        Phrase(
            ("puedo", "podré", "posible", "condiciones"),
            r"\b(?:lo siento(?: mucho)?|lo lamento|disculpa|disculpe|perdón|lamentablemente"
            r"|desafortunadamente|me temo que),? (?:pero )?no (?:puedo|podré|me es posible"
            r"|estoy en condiciones)\b",
        ),
        Phrase(
            ("puedo", "podré", "posible", "autorizado", "autorizada", "permitido"),
            rf"\bno (?:puedo|podré|me es posible|estoy autorizad[oa] a|tengo permitido) "
            rf"{_ES_WHAT}\b",
        ),
        Phrase(
            ("ia", "inteligencia", "modelo", "asistente"),
            r"\bcomo (?:una |un )?(?:ia|inteligencia artificial|modelo de lenguaje"
            r"|asistente de ia), ",
        ),
        Phrase(("condiciones", "posición"), r"\bno estoy en (?:condiciones|posición) de\b"),
        Phrase(("rechazar", "declinar"), r"\b(?:debo|tengo que) (?:rechazar|declinar)\b"),
    ),
    "pt": (
        Phrase(
            ("não",),
            r"\b(?:desculpe|desculpa|lamento|sinto muito|infelizmente|perdão|me desculpe),? "
            r"(?:mas )?(?:eu )?não (?:posso|consigo|poderei|sou capaz|estou autorizad)",
        ),
        Phrase(
            ("não",),
            rf"\bnão (?:posso|consigo|poderei|sou capaz de|estou autorizad[oa] a"
            rf"|tenho permissão para) (?:te |lhe )?{_PT_WHAT}\b",
        ),
        Phrase(
            ("ia", "inteligência", "modelo", "assistente"),
            r"\bcomo (?:uma |um )?(?:ia|inteligência artificial|modelo de linguagem"
            r"|assistente de ia), ",
        ),
        Phrase(("não",), r"\bnão estou em (?:condições|posição) de\b"),
    ),
    "it": (
        Phrase(
            ("non",),
            r"\b(?:mi dispiace(?: molto)?|spiacente|purtroppo|sfortunatamente|mi scuso),? "
            r"(?:ma )?(?:io )?non (?:posso|sono in grado|riesco|potrò)\b",
        ),
        Phrase(
            ("non",),
            rf"\bnon (?:posso|sono in grado di|riesco a|potrò|sono autorizzat[oa] a) {_IT_WHAT}\b",
        ),
        Phrase(
            ("quanto",),
            r"\bin quanto (?:ia|intelligenza artificiale|modello (?:di )?linguaggio"
            r"|assistente (?:di )?ia)\b",
        ),
        Phrase(
            ("ia", "un'ia", "intelligenza", "modello"),
            r"\bcome (?:un'|una |un )?(?:ia|intelligenza artificiale|modello (?:di )?linguaggio), ",
        ),
        Phrase(("rifiutare", "declinare"), r"\bdevo (?:rifiutare|declinare)\b"),
    ),
    "nl": (
        Phrase(
            ("niet", "geen"),
            r"\b(?:het spijt me|sorry|helaas|excuses),? (?:maar )?(?:ik kan|kan ik|daar kan ik"
            r"|dat kan ik|hier kan ik)(?: \S+){0,3}? (?:niet|geen)\b",
        ),
        Phrase(
            ("niet",),
            r"\b(?:ik kan|kan ik) (?:je |u |jou )?(?:daar |hier |hierbij |daarbij |hiermee "
            rf"|daarmee |dit |dat )?(?:helaas )?niet (?:mee |bij )?{_NL_WHAT}\b",
        ),
        Phrase(
            ("niet",),
            r"\b(?:daar|hier|dat|dit) kan ik (?:je |u )?(?:helaas )?niet (?:mee |bij )?"
            rf"{_NL_WHAT}\b",
        ),
        Phrase(
            ("geen",),
            r"\bik kan (?:je |u )?(?:helaas )?geen (?:informatie|hulp|antwoord|advies"
            r"|ondersteuning|instructies)\b",
        ),
        Phrase(
            ("ai", "ai-taalmodel", "taalmodel", "ai-assistent", "kunstmatige"),
            r"\bals (?:een )?(?:ai|ai-taalmodel|taalmodel|ai-assistent"
            r"|kunstmatige intelligentie),? "
            r"(?:kan|heb|ben|mag) ik\b",
        ),
        Phrase(("niet",), r"\bik ben (?:helaas )?niet in staat\b"),
        Phrase(
            ("weigeren", "afwijzen"),
            r"\bik moet (?:dit verzoek |dat )?(?:helaas )?(?:weigeren|afwijzen)\b",
        ),
    ),
    "ja": (
        Phrase(
            ("申し訳",),
            r"申し訳(?:ありません|ございません|ないのです)が?[^。！\n]{0,40}?"
            rf"(?:{_JA_CANNOT}|控えさせ|お断り)",
        ),
        Phrase(
            _JA_NEG,
            r"(?:お手伝い|手伝う|お答え|答える|回答|対応|提供|お応え|ご協力|協力|支援|サポート|ご案内"
            rf"|お伝え)(?:すること|いたすこと)?(?:は|が)?{_JA_CANNOT}",
        ),
        Phrase(("として、",), r"(?:ai|人工知能)(?:言語モデル|アシスタント)?として、"),
        Phrase(("お断り",), r"お断り(?:します|いたします|させていただきます)"),
    ),
    "zh": (
        Phrase(
            _ZH_NEG,
            r"(?:抱歉|对不起|對不起|很遗憾|很遺憾|不好意思)[，,、]? ?(?:但是?)?(?:我|本助手)?"
            + _ZH_CANNOT,
        ),
        Phrase(
            _ZH_NEG,
            rf"我{_ZH_CANNOT}(?:为您|為您|为你|為你|帮您|幫您|帮你|幫你|替您|向您|向你|给您|給您|给你"
            rf"|給你)?{_ZH_WHAT}",
        ),
        Phrase(
            ("作为", "作為"),
            r"作[为為](?:一[个個]|一名)?(?:ai|人工智能|人工智慧|语言模型|語言模型|ai助手|ai语言模型"
            r"|ai語言模型)[，,]",
        ),
        Phrase(("恕",), r"(?:恕我|恕难|恕難)(?:无法|無法|不能|从命|從命)"),
    ),
}
