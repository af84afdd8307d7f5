"""Function words per language: what grounding skips, and what tells a short text's language.

`STOPWORDS`: the words of at least four letters that say nothing about support. The
grounding check skips them (and every word under four letters) when it measures how
much of an output sentence the retrieved context covers.

`FUNCTION_WORDS`: per language, those and its short ones (articles, pronouns,
prepositions, greetings: "the", "is", "der", "het", "och"), which the language check
reads in texts too short for its n-gram model (evaluators/short_text.py).
"""

from __future__ import annotations

_WORDS = {
    "en": """about above after again against also although always among another anyone
        anything around because been before being below between both cannot could does doing
        done down during each either else even ever every from further have having here hers
        herself himself however into itself just least less like made make many might more most
        much must myself neither never none nothing once only other others ought ours ourselves
        over please quite rather really said same shall should since some something such than
        that their theirs them themselves then there therefore these they this those though
        through thus till together too under unless until upon very want was were what whatever
        when whenever where whether which while whom whose will with within without would yeah
        your yours yourself yourselves sure okay here's that's there's it's i'm you're we're
        they're don't doesn't didn't can't won't isn't aren't wasn't weren't""",
    "de": """aber alle allem allen aller alles als also andere anderen anderer anderes auch
        auf aus bei beim bereits bin bis bist damit dann dass davon dazu dein deine deinem
        deinen deiner dem den denen denn der deren des dessen dich dies diese diesem diesen
        dieser dieses doch dort durch eine einem einen einer eines einige etwa euch euer
        für gegen gibt habe haben hatte hätte hier hinter ihnen ihre ihrem ihren ihrer ihres
        immer jede jedem jeden jeder jedes jedoch jene kann kein keine keinem keinen keiner
        können könnte machen mehr mein meine meinem meinen meiner mich mit muss müssen nach
        nicht noch nun nur oder ohne schon sehr sein seine seinem seinen seiner seit sich sie
        sind sollte sondern über unter uns unser unsere viel vom von vor während wann war
        waren warum was weil welche welchem welchen welcher welches wenn werde werden wie wir
        wird wo wurde wurden zum zur zwischen""",
    "fr": """alors aussi autre autres avant avec avoir avons bien cela celle celles celui
        cependant certains cette ceux chaque comme comment dans depuis des donc dont elle
        elles encore entre est était étaient être fait faire leur leurs lors mais même mêmes
        nous notre nos par parce pendant peut peuvent plus pour pourquoi quand quel quelle
        quelles quels que quelque qui sans selon sera serait ses son sont sous souvent sur
        tandis tous tout toute toutes très vous votre vos voici voilà""",
    "es": """algo algunos ante antes aquel aquella aquello aquí cada como con contra cual cuales
        cuando cuanto desde donde durante ella ellas ellos entre esta estaba estas este esto
        estos están estar fue fueron hace hacer hasta había hay mientras mismo mucho muy
        nada nosotros nuestra nuestro otra otras otro otros para pero poco por porque puede
        pueden qué quien sea según sido siempre sin sobre solo son también tanto tiene tienen
        toda todas todo todos tras una unas uno unos usted ustedes vosotros""",
    "pt": """ainda algo algum alguns ante antes aquela aquele aquilo aqui assim até cada com
        como contra desde durante ela elas ele eles entre essa esse isso esta este estes
        estas está estão estava foi foram isto mais mas mesmo muito muitos nada nem nossa
        nosso outra outras outro outros para pela pelas pelo pelos pode podem porque quando
        quem qual quais será sem seu seus sobre sua suas também tem têm tendo toda todas todo
        todos uma umas você vocês""",
    "it": """alla alle allo anche ancora avere aveva che chi come con cosa così dalla dalle
        dallo degli della delle dello dentro dopo dove essere fino fra gli hanno lei loro
        mentre molto nella nelle nello noi nostra nostro ogni oppure però perché piuttosto
        poco prima quale quali quando quanto quella quelle quello questa queste questo sarà
        sempre senza siamo sono sopra sotto stato stesso sua sue suo suoi tra tutta tutte
        tutti tutto voi vostra vostro""",
    "nl": """aan alle alles als altijd andere ben bij daar daarom dan dat deze die dit doch doen
        door dus een eens enkel geen haar had hebben heeft hem hier hij hoe hun iemand iets
        jij jouw kan kon kunnen maar meer met mij mijn moet naar niet niets nog noch
        omdat onder ons onze ook over reeds tegen toch toen tot veel voor waar want was wat
        werd wie wij wil worden wordt zal zei zelf zich zij zijn zonder zou zouden""",
}

# Short function words and greetings, and the function words of three more languages.
_SHORT = {
    "en": """i a an the is am are be do did can how who why my me you we us he she it its his
        her our to of in on at by for and or but not no yes if so as up out all any get got has
        had was let may now one too what your this that with from have will just please hi hey
        hello thanks thank bye goodbye yeah yep nope okay ok sorry""",
    "de": """der die das und ist ein zu im in den mit von wie was ich du er es wir ihr sie mir
        mich dir auf aus bei für nur um so am an als noch ja nein kann ob wo wer dem des bin
        hallo danke tschüss bitte""",
    "fr": """le la les un une des et est de du en au aux je tu il on ne pas que qui ce se sa son
        ses mon ma mes ton ta tes sur par où oui non moi toi lui y a bonjour salut merci""",
    "es": """el la los las un una y es de del en al que qué se su sus mi mis tu te me lo le les
        por con sin no sí yo ya muy hay hola gracias adiós""",
    "pt": """o a os as um uma e é de do da dos das em no na nos nas ao que se seu sua meu eu tu
        não sim por com mas há olá obrigado obrigada tchau""",
    "it": """il lo la le gli un una e è di del in nel che non si mi ti ci per con su da io tu
        lui lei ma sì no ho ha ciao grazie buongiorno""",
    "nl": """de het een en is van in op te dat die niet ik je jij hij zij wij we ze ons met aan
        of om er ook hoe wat wie hallo hoi dank bedankt doei""",
    "sv": """och att det som en ett är på för med av till jag du han hon vi ni de inte har var
        den om kan så men hej tack mer under från också eller när där här vad hur""",
    "pl": """i w z na do nie to że się jak co jest od po za ale czy tak ja ty on ona my wy mi
        cześć dzięki dziękuję być może przez dla gdzie kiedy""",
    "tr": """bir ve bu da de ne ile için mi mı ben sen o biz siz çok var yok değil gibi ama
        merhaba teşekkürler evet hayır nasıl neden""",
}

STOPWORDS: frozenset[str] = frozenset(
    word for words in _WORDS.values() for word in words.split() if len(word) >= 4
)
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    language: frozenset((_WORDS.get(language, "") + " " + _SHORT[language]).split())
    for language in sorted(_SHORT)
}
